from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "labelhub.feedback"
    label = "feedback"
