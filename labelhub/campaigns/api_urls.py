from django.urls import include, path
from rest_framework.routers import DefaultRouter, SimpleRouter

from labelhub.campaigns import api

router = DefaultRouter()
router.register("campaigns", api.CampaignViewSet, basename="campaign")
router.register("invitations", api.MyInvitationViewSet, basename="my-invitation")

nested = SimpleRouter()
nested.register("guidelines/versions", api.GuidelineVersionViewSet, basename="campaign-guideline-version")
nested.register("invitations", api.InvitationViewSet, basename="campaign-invitation")
nested.register("prompts", api.PromptViewSet, basename="campaign-prompt")
nested.register("policies", api.PolicyViewSet, basename="campaign-policy")
nested.register("completions", api.CompletionViewSet, basename="campaign-completion")
nested.register("imports", api.ImportViewSet, basename="campaign-import")
nested.register("passages", api.PassageViewSet, basename="campaign-passage")

urlpatterns = [
    path("", include(router.urls)),
    path("campaigns/<slug:campaign_slug>/", include(nested.urls)),
]
