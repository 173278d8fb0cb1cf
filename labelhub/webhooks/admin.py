from django.contrib import admin

from labelhub.webhooks.models import Delivery, Webhook


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Webhooks are made on their page or through the API, which make the secret and show it once."""

    list_display = ["campaign", "url", "active", "created_at"]
    exclude = ["secret"]

    def has_add_permission(self, request):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["webhook", "event", "state", "attempts", "status_code", "created_at"]
    list_select_related = ["webhook__campaign"]
