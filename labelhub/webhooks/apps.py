from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Webhooks: a campaign's URLs told about its events, signed, retried and logged. Sits above
    the apps that emit events (they call ``labelhub.core.webhooks.emit``)."""

    name = "labelhub.webhooks"
    label = "webhooks"

    def ready(self):
        from labelhub.core import webhooks
        from labelhub.webhooks import services

        webhooks.connect(services.deliveries_queue)
