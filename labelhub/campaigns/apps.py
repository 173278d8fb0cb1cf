from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "labelhub.campaigns"
    label = "campaigns"
