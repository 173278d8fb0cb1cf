"""Pages of the labeler loop. The labeling page itself is a frontend module over the API."""

from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from labelhub.campaigns import selectors as campaign_selectors
from labelhub.campaigns import services as campaign_services
from labelhub.campaigns.imports import ImportRejected
from labelhub.campaigns.models import PRIORITY_MAX, PRIORITY_MIN, Role
from labelhub.campaigns.selectors import CONTENT_READERS
from labelhub.campaigns.serializers import InviteSerializer, MemberRoleSerializer, invite_answer
from labelhub.core.inputs import whole_number
from labelhub.labeling import selectors, services
from labelhub.labeling.serializers import lease_payload


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
    return render(request, "labeling/home.html", {
        "rows": selectors.labeler_home(user=request.user),
        "invitations": campaign_selectors.invitations_pending(user=request.user).count(),
    })


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
    priority = whole_number(request.POST.get("priority") or "0", minimum=PRIORITY_MIN, maximum=PRIORITY_MAX)
    if priority is None:
        messages.error(request, f"Priority must be a whole number from {PRIORITY_MIN} to {PRIORITY_MAX}.")
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


# --- tasks and gold answers (leads) ---------------------------------------------------------


@login_required
def task_list(request, slug, *, errors=None, status=200):
    """Leads: the campaign's tasks, which are gold, and a form to import a file of gold answers."""
    campaign = _lead_campaign(request, slug)
    tasks = selectors.task_list(campaign=campaign).select_related("prompt")
    if request.GET.get("gold") == "1":
        tasks = tasks.filter(is_gold=True)
    page = Paginator(tasks, 50).get_page(request.GET.get("page"))
    return render(request, "labeling/tasks.html", {
        "campaign": campaign, "page": page, "errors": errors or [], "gold_only": request.GET.get("gold") == "1",
    }, status=status)


@require_POST
@login_required
def gold_import(request, slug):
    """Leads: set gold answers from a JSONL file; one bad line refuses the file, every bad line named."""
    campaign = _lead_campaign(request, slug)
    upload = request.FILES.get("file")
    if upload is None:
        return task_list(request, slug, errors=[{"line": None, "field": "file", "message": "choose a .jsonl file"}], status=400)
    try:
        updated = services.gold_import(campaign=campaign, upload=upload)
    except ImportRejected as rejected:
        return task_list(request, slug, errors=[e.as_dict() for e in rejected.errors], status=400)
    messages.success(request, f"Gold answers set or cleared on {updated} task{'s' if updated != 1 else ''}.")
    return redirect("tasks", slug=campaign.slug)


@csp_update({"require-trusted-types-for": ["'script'"], "trusted-types": ["dompurify"], "worker-src": ["'none'"]})
@login_required
def task_gold(request, slug, pk):
    """Leads: set a task's expected answer with the labeling page's widgets (frontend/js/gold.js
    PATCHes the task through the API, which checks it as a labeler's answer)."""
    campaign = _lead_campaign(request, slug)
    task = selectors.task_get(campaign=campaign, pk=pk)
    return render(request, "labeling/task_gold.html", {
        "campaign": campaign, "task": task,
        "payload": {**lease_payload(selectors.task_for_display(task=task)), "gold_answer": task.gold_answer},
    })


# --- members (leads) ------------------------------------------------------------------------


def _lead_campaign(request, slug):
    campaign, _ = campaign_selectors.campaign_with_role(user=request.user, slug=slug, allowed={Role.LEAD})
    return campaign


@login_required
def members(request, slug):
    """Leads: the members with their roles, judgments and last activity; invite, change, remove."""
    return _members_page(request, _lead_campaign(request, slug))


def _members_page(request, campaign, *, invite=None, errors=None, status=200):
    activity = selectors.member_activity(campaign=campaign)
    people = list(campaign_selectors.member_list(campaign=campaign))
    for membership in people:
        figures = activity.get(membership.user_id, {})
        membership.judgments = figures.get("judgments", 0)
        membership.last_activity = figures.get("last_activity")
    return render(request, "labeling/members.html", {
        "campaign": campaign, "members": people, "roles": Role.choices,
        "invitations": campaign_selectors.invitation_list(campaign=campaign)[:100],
        "invite": invite or {}, "errors": errors or {},
    }, status=status)


@require_POST
@login_required
def member_invite(request, slug):
    campaign = _lead_campaign(request, slug)
    params = InviteSerializer(data=request.POST)
    if not params.is_valid():  # the API's rules; each error shown next to its field
        errors = {field: " ".join(map(str, problems)) for field, problems in params.errors.items()}
        return _members_page(request, campaign, invite=request.POST, errors=errors, status=400)
    campaign_services.invitation_create(campaign=campaign, invited_by=request.user, **params.validated_data)
    messages.success(request, invite_answer(**params.validated_data)["detail"])
    return redirect("members", slug=campaign.slug)


@require_POST
@login_required
def member_role(request, slug, pk):
    campaign = _lead_campaign(request, slug)
    membership = campaign_selectors.membership_get(campaign=campaign, pk=pk)
    params = MemberRoleSerializer(data=request.POST)
    if not params.is_valid():
        messages.error(request, f"Choose one of the roles: {', '.join(label for _, label in Role.choices)}.")
        return redirect("members", slug=campaign.slug)
    role = params.validated_data["role"]
    try:
        services.member_role_change(membership=membership, role=role)
    except campaign_services.LastLead as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{membership.user.username} is now {Role(role).label.lower()} here.")
    return redirect("members", slug=campaign.slug)


@require_POST
@login_required
def member_remove(request, slug, pk):
    campaign = _lead_campaign(request, slug)
    membership = campaign_selectors.membership_get(campaign=campaign, pk=pk)
    try:
        services.member_remove(membership=membership)
    except campaign_services.LastLead as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{membership.user.username} is no longer {membership.get_role_display().lower()} here.")
    return redirect("members", slug=campaign.slug)


@require_POST
@login_required
def labeler_reinstate(request, slug, user_id):
    """Leads: let a paused labeler label again (the Quality page's button); back to that page."""
    campaign = _lead_campaign(request, slug)
    labeler = selectors.labeler_get(campaign=campaign, user_id=user_id)
    try:
        services.labeler_reinstate(campaign=campaign, labeler=labeler, by=request.user, note=request.POST.get("note", ""))
    except services.NotPaused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{labeler.username} is reinstated: their queue gives them tasks again.")
    return redirect("feedback:quality", slug=campaign.slug)
