from django.urls import include, path
from rest_framework.routers import SimpleRouter

from labelhub.labeling import api

nested = SimpleRouter()
nested.register("members", api.MemberViewSet, basename="campaign-member")
nested.register("tasks", api.TaskViewSet, basename="campaign-task")
nested.register("judgments", api.JudgmentViewSet, basename="campaign-judgment")
nested.register("skips", api.SkipViewSet, basename="campaign-skip")
nested.register("labelers", api.LabelerQualityViewSet, basename="campaign-labeler")

urlpatterns = [
    path("labeling/next/", api.NextTaskView.as_view(), name="labeling-next"),
    path("labeling/home/", api.home, name="labeling-home"),
    path("labeling/assignments/<int:assignment_id>/", api.assignment, name="labeling-assignment"),
    path("labeling/assignments/<int:assignment_id>/submit/", api.submit, name="labeling-submit"),
    path("labeling/assignments/<int:assignment_id>/skip/", api.skip, name="labeling-skip"),
    path("campaigns/<slug:campaign_slug>/", include(nested.urls)),
]
