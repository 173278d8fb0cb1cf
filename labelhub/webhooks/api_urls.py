from django.urls import include, path
from rest_framework.routers import SimpleRouter

from labelhub.webhooks import api

nested = SimpleRouter()
nested.register("webhooks", api.WebhookViewSet, basename="campaign-webhook")

urlpatterns = [path("campaigns/<slug:campaign_slug>/", include(nested.urls))]
