from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: the demo and other commands that wire every part together (top of the imports)."""

    name = "labelhub.ops"
    label = "ops"
