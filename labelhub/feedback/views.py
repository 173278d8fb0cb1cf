"""Pages: snapshots of a campaign, its leaderboard and its quality figures."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.views.decorators.http import require_POST

from labelhub.campaigns import selectors as campaign_selectors
from labelhub.campaigns.models import Role
from labelhub.campaigns.selectors import CONTENT_READERS, policies_ready_to_send
from labelhub.core.inputs import whole_number
from labelhub.core.pages import render_part, requested_part
from labelhub.feedback import dashboard as dashboard_lib
from labelhub.feedback import leaderboard as leaderboard_lib
from labelhub.feedback import review_queue, selectors, services
from labelhub.feedback.api import REVIEWERS, snapshot_create_and_queue
from labelhub.feedback.models import Snapshot
from labelhub.labeling import selectors as labeling_selectors
from labelhub.labeling import services as labeling_services

BUILDERS = {Role.LEAD, Role.ENGINEER}
SNAPSHOT_PARTS = {"snapshots": "feedback/_snapshot_table.html"}
LEADERBOARD_PARTS = {"standings": "feedback/_leaderboard.html"}


def _campaign_for(request, slug, roles):
    return campaign_selectors.campaign_with_role(user=request.user, slug=slug, allowed=roles)


@login_required
def snapshots(request, slug):
    campaign, roles = _campaign_for(request, slug, CONTENT_READERS)
    listed = Snapshot.objects.filter(campaign=campaign).select_related("created_by")
    if part := requested_part(request, SNAPSHOT_PARTS):
        return render_part(request, part, {"campaign": campaign, "snapshots": listed})
    errors = {}
    if request.method == "POST":
        if not roles & BUILDERS:
            raise PermissionDenied("Only leads and engineers make snapshots.")
        filters = {k: v for k, v in {
            "since": request.POST.get("since") or None, "until": request.POST.get("until") or None,
            "labelers": [u.strip() for u in request.POST.get("labelers", "").split(",") if u.strip()] or None,
            "exclude_flagged": bool(request.POST.get("exclude_flagged")) or None,
            "exclude_rejected": bool(request.POST.get("exclude_rejected")) or None,
            "split": request.POST.get("split") or None,
            "exclude_paused": bool(request.POST.get("exclude_paused")) or None,
            "min_gold_accuracy": _share(request.POST.get("min_gold_accuracy")),
        }.items() if v is not None}
        try:
            snapshot = snapshot_create_and_queue(
                campaign=campaign, user=request.user, kind=request.POST.get("kind", "preference"),
                aggregation=request.POST.get("aggregation", "all"), keep_ties=bool(request.POST.get("keep_ties")),
                filters=filters,
            )
        except services.SnapshotInvalid as exc:
            errors = exc.errors
        else:
            messages.success(request, f"Snapshot v{snapshot.version} is being written.")
            return redirect("feedback:snapshots", slug=campaign.slug)
    return render(request, "feedback/snapshots.html", {
        "campaign": campaign, "snapshots": listed,
        "can_build": bool(roles & BUILDERS), "errors": errors,
        "aggregations": Snapshot.Aggregation.choices, "kinds": Snapshot.Kind.choices,
    }, status=400 if errors else 200)


def _share(text):
    """A form's share (e.g. "0.8") as a number; other text is passed on for the service to name."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text


@login_required
def leaderboard(request, slug):
    """The standings; ``?part=standings`` is the table alone, which the page asks for again
    to follow new judgments and promotions."""
    campaign, roles = _campaign_for(request, slug, CONTENT_READERS)
    board = leaderboard_lib.leaderboard(campaign=campaign)
    ids = [s.policy.id for s in board.standings]
    can_act = bool(roles & BUILDERS)
    sendable = policies_ready_to_send(campaign=campaign, policies=[s.policy for s in board.standings]) if can_act else set()
    rows = [{
        "standing": s, "override": board.overrides.get(s.policy.id), "forgets": board.forgets(s.policy),
        "is_reference": board.reference is not None and board.reference.id == s.policy.id,
        "can_promote": can_act and leaderboard_lib.promotable(board, s), "can_send": s.policy.id in sendable,
    } for s in board.standings]
    context = {
        "campaign": campaign, "board": board, "rows": rows, "can_promote": can_act,
        "matrix": [(s.policy, [board.win_rates[s.policy.id][other] for other in ids]) for s in board.standings],
    }
    if part := requested_part(request, LEADERBOARD_PARTS):
        return render_part(request, part, context)
    return render(request, "feedback/leaderboard.html", context)


@require_POST
@login_required
def promote(request, slug):
    campaign, _ = _campaign_for(request, slug, BUILDERS)
    policy = campaign.policies.filter(pk=whole_number(request.POST.get("policy"))).first()
    if policy is None:
        messages.error(request, "No such policy.")
        return redirect("feedback:leaderboard", slug=campaign.slug)
    try:
        standing = leaderboard_lib.policy_promote(
            campaign=campaign, policy=policy, user=request.user,
            override=request.POST.get("override") == "1", note=request.POST.get("note", ""))
    except (leaderboard_lib.PromotionRefused, leaderboard_lib.PromotionInvalid) as exc:
        messages.error(request, str(exc))
    else:
        over = " over its guards (your note is recorded)" if policy.flagged else ""
        messages.success(request, f"{policy.name} is now the best version{over} (95% interval "
                                  f"[{floatformat(standing.low, 2)}, {floatformat(standing.high, 2)}], as in the table).")
    return redirect("feedback:leaderboard", slug=campaign.slug)


@login_required
def quality(request, slug):
    """Agreement between labelers and each labeler's bias alarms (documented defaults)."""
    campaign, roles = _campaign_for(request, slug, CONTENT_READERS)
    period = request.GET.get("period") if request.GET.get("period") in selectors.PERIODS else "day"
    figures = selectors.campaign_agreement(campaign=campaign, period=period)
    alarms = selectors.campaign_alarms(campaign=campaign)
    sees_accuracy = bool(roles & labeling_selectors.ACCURACY_READERS)  # gold accuracy: leads and reviewers (docs/quality.md)
    return render(request, "feedback/quality.html", {
        "campaign": campaign, "agreement": figures, "alarms": alarms, "period": period, "periods": selectors.PERIODS,
        "raised": sum(1 for entry in alarms["labelers"] if entry["raised"]),
        "gold": labeling_selectors.gold_accuracy(campaign=campaign) if sees_accuracy else None,
        "pauses": labeling_selectors.pause_history(campaign=campaign)[:50] if sees_accuracy else None,
        "can_reinstate": Role.LEAD in roles,
    })


@login_required
def dashboard(request, slug):
    """The live dashboard: an empty frame the page's script fills from the WebSocket."""
    campaign, _ = _campaign_for(request, slug, dashboard_lib.WATCHERS)
    period = request.GET.get("period") if request.GET.get("period") in selectors.PERIODS else "day"
    return render(request, "feedback/dashboard.html", {
        "campaign": campaign, "period": period, "periods": selectors.PERIODS, "rate_hours": selectors.RATE_HOURS,
        "quality_interval": settings.LABELHUB_DASHBOARD_QUALITY_INTERVAL,
    })


@login_required
def review(request, slug):
    """The review queue: one judgment at a time, accepted or rejected by keyboard (review.js
    reads the queue and writes reviews through the API)."""
    campaign, _ = _campaign_for(request, slug, REVIEWERS)
    source = request.GET.get("source") if request.GET.get("source") in review_queue.SOURCES else "sample"
    return render(request, "feedback/review.html", {
        "campaign": campaign, "source": source, "sources": review_queue.SOURCES.values(),
    })


@login_required
def disagreements(request, slug):
    """Tasks the labelers disagree on and pairs where a reward model and the human majority
    disagree; a POST sends a task back to labeling with more overlap."""
    campaign, _ = _campaign_for(request, slug, REVIEWERS)
    if request.method == "POST":
        task_id = whole_number(request.POST.get("task"))
        try:
            task = labeling_services.task_send_back(campaign=campaign, task_id=task_id or 0,
                                                    extra=whole_number(request.POST.get("extra")) or 0)
        except labeling_services.SendBackInvalid as exc:
            messages.error(request, "Not sent back: " + "; ".join(f"{k}: {v}" for k, v in exc.errors.items()))
        else:
            messages.success(request, f"Task #{task.pk} is back in the queue: it now wants {task.overlap} judgments.")
        return redirect("feedback:disagreements", slug=campaign.slug)
    scorer = request.GET.get("scorer") or None
    return render(request, "feedback/disagreements.html", {
        "campaign": campaign, "tasks": selectors.disagreement_tasks(campaign=campaign, limit=100),
        "reward": selectors.reward_candidates(campaign=campaign, scorer=scorer, limit=100),
    })
