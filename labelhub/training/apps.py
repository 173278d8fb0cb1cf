from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "labelhub.training"
    label = "training"
