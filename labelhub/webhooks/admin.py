from django.contrib import admin

from labelhub.webhooks.models import Delivery, Webhook


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["campaign", "url", "active", "created_at"]
    exclude = ["secret"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["webhook", "event", "state", "attempts", "status_code", "created_at"]
    list_select_related = ["webhook__campaign"]
