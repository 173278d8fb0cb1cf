from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from labelhub.accounts import api as accounts_api
from labelhub.campaigns import views as campaign_views
from labelhub.core.errors import json_error_view
from labelhub.labeling import views as labeling_views
from labelhub.training import views as training_views

api_patterns = [
    path("", include("labelhub.campaigns.api_urls")),
    path("", include("labelhub.labeling.api_urls")),
    path("", include("labelhub.training.api_urls")),
    path("", include("labelhub.feedback.api_urls")),
    path("", include("labelhub.webhooks.api_urls")),
    path("me/", accounts_api.me, name="api-me"),
    path("me/token/", accounts_api.rotate_token, name="api-token-rotate"),
    path("auth/token/", accounts_api.TokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # signed-in users only; the page and its start-up script are separate files (no inline code: CSP)
    path("docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="swagger-ui"),
]

urlpatterns = [
    path("", labeling_views.start, name="home"),  # labelers land on their queue, others on the campaigns
    path("", include("labelhub.accounts.urls")),
    path("campaigns/", include("labelhub.campaigns.urls")),
    path("campaigns/<slug:slug>/runs/", include("labelhub.training.urls")),
    path("plan/", training_views.planner, name="planner"),
    path("campaigns/", include("labelhub.feedback.urls")),
    path("label/", include("labelhub.labeling.urls")),
    path("campaigns/<slug:slug>/tasks/make/", labeling_views.tasks_make, name="tasks-make"),
    path("campaigns/<slug:slug>/skips/", labeling_views.skips, name="skips"),
    path("campaigns/<slug:slug>/tasks/", labeling_views.task_list, name="tasks"),
    path("campaigns/<slug:slug>/tasks/gold/", labeling_views.gold_import, name="gold-import"),
    path("campaigns/<slug:slug>/tasks/<int:pk>/gold/", labeling_views.task_gold, name="task-gold"),
    # members: the labeling app's pages (revoking a member's leases is the queue's business)
    path("campaigns/<slug:slug>/members/", labeling_views.members, name="members"),
    path("campaigns/<slug:slug>/labelers/<int:user_id>/reinstate/", labeling_views.labeler_reinstate,
         name="labeler-reinstate"),
    path("campaigns/<slug:slug>/members/invite/", labeling_views.member_invite, name="member-invite"),
    path("campaigns/<slug:slug>/members/<int:pk>/role/", labeling_views.member_role, name="member-role"),
    path("campaigns/<slug:slug>/members/<int:pk>/remove/", labeling_views.member_remove, name="member-remove"),
    path("campaigns/<slug:slug>/invitations/<int:pk>/revoke/", campaign_views.invitation_revoke,
         name="invitation-revoke"),
    path("campaigns/<slug:slug>/webhooks/", include("labelhub.webhooks.urls")),
    path("invitations/", campaign_views.invitation_list, name="invitations"),
    path("invitations/<int:pk>/accept/", campaign_views.invitation_accept, name="invitation-accept"),
    path("invitations/<int:pk>/decline/", campaign_views.invitation_decline, name="invitation-decline"),
    path("api/", include(api_patterns)),
    path("admin/", admin.site.urls),
    # pages without the base template (admin, API docs) and browsers that ask anyway
    path("favicon.ico", RedirectView.as_view(url=static("css/favicon.svg"), permanent=True)),
]

handler404 = json_error_view(404, "not_found", "Not found.")
handler500 = json_error_view(500, "server_error", "A server error occurred; it has been logged.")
