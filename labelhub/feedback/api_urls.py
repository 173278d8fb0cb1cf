from django.urls import include, path
from rest_framework.routers import SimpleRouter

from labelhub.feedback import api

nested = SimpleRouter()
nested.register("snapshots", api.SnapshotViewSet, basename="campaign-snapshot")
nested.register("leaderboard", api.LeaderboardViewSet, basename="campaign-leaderboard")
nested.register("pair-imports", api.PairImportViewSet, basename="campaign-pair-import")
nested.register("agreement", api.AgreementViewSet, basename="campaign-agreement")
nested.register("alarms", api.AlarmViewSet, basename="campaign-alarms")
nested.register("dashboard", api.DashboardViewSet, basename="campaign-dashboard")
nested.register("review-queue", api.ReviewQueueViewSet, basename="campaign-review-queue")
nested.register("reviews", api.ReviewViewSet, basename="campaign-review")
nested.register("disagreements", api.DisagreementViewSet, basename="campaign-disagreement")
nested.register("completion-scores", api.CompletionScoreViewSet, basename="campaign-completion-score")

urlpatterns = [path("campaigns/<slug:campaign_slug>/", include(nested.urls))]
