"""WebSocket routes. Consumers check login and membership themselves on connect."""

from django.urls import path

from labelhub.feedback.consumers import CampaignDashboardConsumer
from labelhub.labeling.consumers import CampaignProgressConsumer
from labelhub.training.consumers import RunConsumer

websocket_urlpatterns = [
    path("ws/campaigns/<slug:slug>/progress/", CampaignProgressConsumer.as_asgi()),
    path("ws/campaigns/<slug:slug>/dashboard/", CampaignDashboardConsumer.as_asgi()),
    path("ws/runs/<int:run_id>/", RunConsumer.as_asgi()),
]
