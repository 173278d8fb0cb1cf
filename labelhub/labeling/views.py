"""Pages of the labeler loop. The labeling page itself is a frontend module over the API."""

from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from labelhub.campaigns import selectors as campaign_selectors
from labelhub.campaigns.models import Role
from labelhub.campaigns.selectors import CONTENT_READERS
from labelhub.core.inputs import INT_MAX, whole_number
from labelhub.labeling import selectors, services


@login_required
def start(request):
    """Where signing in lands: someone who only labels, on their queue; everyone else (leads,
    engineers, reviewers, staff, people in no campaign yet) on the campaign list."""
    roles = set().union(*campaign_selectors.roles_by_campaign(user=request.user).values())
    if roles == {Role.LABELER} and not request.user.is_staff:
        return redirect("labeling:home")
    return redirect("campaigns:list")


@login_required
def home(request):
    return render(request, "labeling/home.html", {"rows": selectors.labeler_home(user=request.user)})


# Model output is shown here: beyond the site's policy, only DOMPurify's Trusted Types policy
# may turn strings into HTML, and no workers.
@csp_update({"require-trusted-types-for": ["'script'"], "trusted-types": ["dompurify"], "worker-src": ["'none'"]})
@login_required
def label(request):
    campaign = None
    if slug := request.GET.get("campaign"):
        campaign = campaign_selectors.campaign_get(user=request.user, slug=slug)
    return render(request, "labeling/label.html", {"campaign": campaign})


@require_POST
@login_required
def tasks_make(request, slug):
    """Leads: make labeling tasks from the campaign's completions (K per prompt, or pairs)."""
    campaign = campaign_selectors.campaign_get(user=request.user, slug=slug)
    if Role.LEAD not in campaign.roles_of(request.user):
        raise PermissionDenied("Only the campaign's leads make tasks.")
    policy_ids = [n for p in request.POST.getlist("policies") if (n := whole_number(p, minimum=1)) is not None]
    split = request.POST.get("split") or None
    priority = whole_number(request.POST.get("priority") or "0", minimum=-INT_MAX, maximum=INT_MAX)
    if priority is None:
        messages.error(request, "Priority must be a whole number.")
        return redirect("campaigns:detail", slug=campaign.slug)
    made = services.tasks_create(campaign=campaign, policy_ids=policy_ids or None,
                                 split=split if split in ("train", "held_out") else None, priority=priority)
    (messages.success if made.made else messages.warning)(request, made.message())
    return redirect("campaigns:detail", slug=campaign.slug)


@login_required
def skips(request, slug):
    """Leads, reviewers, engineers: the tasks labelers skipped and the reasons they gave."""
    campaign = campaign_selectors.campaign_get(user=request.user, slug=slug)
    if not campaign.roles_of(request.user) & CONTENT_READERS:
        raise PermissionDenied("Skip reasons are for the campaign's leads, reviewers and engineers.")
    page = Paginator(selectors.skip_list(campaign=campaign), 50).get_page(request.GET.get("page"))
    return render(request, "labeling/skips.html", {"campaign": campaign, "page": page})
