from django.urls import include, path
from rest_framework.routers import SimpleRouter

from labelhub.training import api

nested = SimpleRouter()
nested.register("runs", api.RunViewSet, basename="campaign-run")
nested.register("loop-rounds", api.LoopRoundViewSet, basename="campaign-loop-round")
nested.register("reward-models", api.RewardModelViewSet, basename="campaign-reward-model")

top = SimpleRouter()
top.register("run-kinds", api.RunKindViewSet, basename="run-kind")

urlpatterns = [
    path("campaigns/<slug:campaign_slug>/", include(nested.urls)),
    *top.urls,
    path("plan/", api.PlanView.as_view(), name="plan"),
]
