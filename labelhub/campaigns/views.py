"""Server-rendered pages for campaigns. Each view: check access, call a selector/service, render."""

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from labelhub.campaigns import import_jobs, selectors, services
from labelhub.campaigns.imports import ImportRejected
from labelhub.campaigns.models import (
    LEASE_SECONDS_MAX,
    LEASE_SECONDS_MIN,
    RETRIEVAL_K_MAX,
    Campaign,
    Role,
)
from labelhub.campaigns.selectors import CONTENT_READERS
from labelhub.campaigns.serializers import CampaignSerializer
from labelhub.core.pages import render_part, requested_part

DETAIL_PARTS = {"policies": "campaigns/_policy_list.html"}


@login_required
def campaign_list(request):
    campaigns = list(selectors.campaign_list(user=request.user))
    roles = selectors.roles_by_campaign(user=request.user)
    by_role = {role: [] for role in Role}
    for campaign in campaigns:
        campaign.my_roles = sorted(roles.get(campaign.id, ()))
        for role in campaign.my_roles:
            by_role[role].append(campaign)
    sections = [(Role(role).label, items) for role, items in by_role.items() if items]
    invitations = selectors.invitations_pending(user=request.user).count()
    return render(request, "campaigns/campaign_list.html", {"sections": sections, "invitations": invitations})


@login_required
def campaign_detail(request, slug):
    campaign = selectors.campaign_get(user=request.user, slug=slug)
    roles = campaign.roles_of(request.user)
    context = {"campaign": campaign, "roles": sorted(roles), "is_lead": Role.LEAD in roles}
    if part := requested_part(request, DETAIL_PARTS):  # a part the page follows: readers of its content only
        if not roles & CONTENT_READERS:
            raise PermissionDenied("Labelers see this campaign's completions in their tasks.")
        return render_part(request, part, context | {"policies": selectors.policy_list(campaign=campaign)})
    if roles & CONTENT_READERS:
        split = request.GET.get("split") or None
        search = request.GET.get("q") or None
        prompts = selectors.prompts_with_completions(campaign=campaign, split=split, search=search)
        page = Paginator(prompts, 20).get_page(request.GET.get("page"))
        context |= {
            "page": page,
            "members": selectors.member_list(campaign=campaign),
            "policies": selectors.policy_list(campaign=campaign),
            "split": split or "",
            "q": search or "",
            "imports": campaign.imports.all()[:5],
        }
    return render(request, "campaigns/campaign_detail.html", context)


@login_required
def campaign_import(request, slug):
    campaign = _lead_campaign(request, slug)
    errors, preview = [], None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors = [{"line": None, "field": "file", "message": "choose a .jsonl, .csv, .parquet, .arrow or .zip file"}]
        else:
            try:
                if request.POST.get("action") == "preview":
                    preview = services.prompts_import_preview(upload=upload)
                    errors = preview["errors"]
                elif import_jobs.needs_job(upload.size):
                    batch = services.prompts_import_queue(campaign=campaign, user=request.user, upload=upload)
                    return redirect("campaigns:import_detail", slug=campaign.slug, pk=batch.pk)
                else:
                    result = services.prompts_import_upload(campaign=campaign, user=request.user, upload=upload)
            except ImportRejected as rejected:
                errors = [e.as_dict() for e in rejected.errors]
            else:
                if preview is not None:
                    return render(request, "campaigns/campaign_import.html",
                                  {"campaign": campaign, "errors": errors, "preview": preview})
                r = result.as_dict()
                messages.success(
                    request,
                    f"Imported {r['prompts_created']} prompts ({r['prompts_skipped']} duplicates skipped) "
                    f"and {r['completions_created']} completions ({r['completions_skipped']} skipped).",
                )
                return redirect("campaigns:detail", slug=campaign.slug)
    status = 400 if errors else 200
    return render(request, "campaigns/campaign_import.html", {"campaign": campaign, "errors": errors}, status=status)


@login_required
def import_detail(request, slug, pk):
    """A large import's page: its state and progress while its job runs (frontend/js/import.js
    follows the API and reloads the page when it ends), then what it wrote or its errors."""
    campaign = _lead_campaign(request, slug)
    batch = selectors.import_get(campaign=campaign, pk=pk)
    return render(request, "campaigns/import_detail.html", {"campaign": campaign, "batch": batch})


@login_required
def documents(request, slug):
    """The document collection: its passages, a search showing what retrieval would pick for a
    question (``?q=``), and — for leads and engineers — importing a file and making a policy's
    retrieval-augmented version."""
    campaign = selectors.campaign_get(user=request.user, slug=slug)
    roles = campaign.roles_of(request.user)
    if not roles & CONTENT_READERS:
        raise PermissionDenied("Labelers see passages beside the answers in their tasks.")
    can_edit = bool(roles & {Role.LEAD, Role.ENGINEER})
    errors, status = [], 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only the campaign's leads and engineers can do this.")
        if request.POST.get("action") == "retrieval":
            return _retrieval_version(request, campaign)
        errors = _documents_import(request, campaign)
        if not errors:
            return redirect("campaigns:documents", slug=campaign.slug)
        status = 400
    q = (request.GET.get("q") or "").strip()[:1000]
    k = min(max(_int(request.GET.get("k"), 5), 1), RETRIEVAL_K_MAX)
    context = {
        "campaign": campaign, "can_edit": can_edit, "errors": errors, "q": q, "k": k,
        "found": selectors.passages_retrieve(campaign_id=campaign.id, text=q, k=k) if q else None,
        "page": Paginator(selectors.passage_list(campaign=campaign), 50).get_page(request.GET.get("page")),
        "policies": [p for p in selectors.policy_list(campaign=campaign) if not p.retrieves] if can_edit else [],
        "k_max": RETRIEVAL_K_MAX,
    }
    return render(request, "campaigns/documents.html", context, status=status)


def _documents_import(request, campaign) -> list[dict]:
    upload = request.FILES.get("file")
    if upload is None:
        return [{"line": None, "field": "file", "message": "choose a .txt, .md or .jsonl file"}]
    try:
        result = services.passages_import_upload(campaign=campaign, upload=upload)
    except ImportRejected as rejected:
        return [e.as_dict() for e in rejected.errors]
    messages.success(request, f"Imported {result.created} passages ({result.skipped} already there or repeated, skipped).")
    return []


def _retrieval_version(request, campaign):
    policy = campaign.policies.filter(pk=_int(request.POST.get("policy"), 0)).first()
    try:
        if policy is None:
            raise services.PolicyInvalid("policy", "choose a policy of this campaign")
        rag = services.policy_retrieval_version(policy=policy, k=_int(request.POST.get("retrieval_k"), 0))
    except services.PolicyInvalid as exc:
        messages.error(request, f"No retrieval version made: {exc.field} {exc}.")
    else:
        messages.success(request, f"Made {rag.name}: {policy.name} with the top {rag.retrieval_k} passages in its prompts.")
    return redirect("campaigns:documents", slug=campaign.slug)


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _lead_campaign(request, slug):
    campaign = selectors.campaign_get(user=request.user, slug=slug)
    if Role.LEAD not in campaign.roles_of(request.user):
        raise PermissionDenied("Only the campaign's leads can do this.")
    return campaign


# --- set-up: create, edit, archive, guidelines -------------------------------------------------
# The forms post plain fields; ``_settings_from_form`` turns them into what the API takes and
# ``CampaignSerializer`` validates them, so a page and the API give the same message for the
# same bad value. Each error is shown next to its field.

#: Gold and qualification settings (docs/quality.md, "Gold tasks"); the form shows shares as 0–1.
GOLD_FIELDS = ["gold_rate", "gold_min_answers", "gold_accuracy_threshold", "qualification_size",
               "qualification_threshold", "qualification_max_attempts"]
#: Settings fields on the set-up form (the slug only when creating: pages and files name it).
SETTINGS_FIELDS = ["name", "description", "task_kind", "completions_per_task", "overlap",
                   "flag_vocabulary", "rating_axes", "lease_seconds", "loop_auto", "loop_priority", *GOLD_FIELDS,
                   "forgetting_threshold"]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _axis(line: str):
    """``helpfulness`` or ``helpfulness, 1, 5`` → the API's axis object (the serializer checks it)."""
    parts = [part.strip() for part in line.split(",")]
    if len(parts) == 1:
        return {"name": parts[0]}
    if len(parts) != 3:
        return line  # not an object: the serializer names the axis that is malformed
    lo, hi = (int(v) if re.fullmatch(r"-?[0-9]{1,9}", v) else v for v in parts[1:])
    return {"name": parts[0], "min": lo, "max": hi}


def _settings_from_form(post, fields) -> dict:
    data = {name: post[name] for name in fields if name in post}
    if "flag_vocabulary" in fields:
        data["flag_vocabulary"] = _lines(post.get("flag_vocabulary", ""))
    if "rating_axes" in fields:
        data["rating_axes"] = [_axis(line) for line in _lines(post.get("rating_axes", ""))]
    if "loop_auto" in fields:
        data["loop_auto"] = post.get("loop_auto") == "on"
    if "lease_seconds" in data and data["lease_seconds"].strip() == "":  # left empty: the server's default lease time
        data["lease_seconds"] = None
    return data


def _form_values(campaign: Campaign | None, post=None) -> dict:
    """What the form's inputs show: what was posted, else the campaign's settings."""
    if post is not None:
        values = post.dict()
        values["loop_auto"] = post.get("loop_auto") == "on"
        return values
    campaign = campaign or Campaign()
    values = {name: getattr(campaign, name) for name in [*SETTINGS_FIELDS, "slug", "status", "guidelines"]}
    values["flag_vocabulary"] = "\n".join(campaign.flag_vocabulary)
    values["rating_axes"] = "\n".join(f"{a['name']}, {a['min']}, {a['max']}" for a in campaign.rating_axes)
    return values


def _field_errors(serializer) -> dict[str, str]:
    return {field: " ".join(map(str, problems)) for field, problems in serializer.errors.items()}


def _settings_page(request, *, campaign, values, errors=None, status=200):
    return render(request, "campaigns/campaign_form.html", {
        "campaign": campaign, "values": values, "errors": errors or {}, "statuses": Campaign.Status.choices,
        "task_kinds": Campaign.TaskKind.choices, "default_lease_seconds": settings.LABELHUB_LEASE_SECONDS,
        "lease_min": LEASE_SECONDS_MIN, "lease_max": LEASE_SECONDS_MAX,
    }, status=status)


@login_required
def campaign_create(request):
    """Anyone signed in may create a campaign (as through the API) and becomes its lead."""
    if request.method != "POST":
        return _settings_page(request, campaign=None, values=_form_values(None))
    data = _settings_from_form(request.POST, [*SETTINGS_FIELDS, "slug", "guidelines"])
    serializer = CampaignSerializer(data=data, context={"request": request})
    if not serializer.is_valid():
        return _settings_page(request, campaign=None, values=_form_values(None, request.POST),
                              errors=_field_errors(serializer), status=400)
    campaign = services.campaign_create(user=request.user, **serializer.validated_data)
    messages.success(request, f"Campaign {campaign.name} created; you are its lead. Import prompts next.")
    return redirect("campaigns:detail", slug=campaign.slug)


@login_required
def campaign_edit(request, slug):
    campaign = _lead_campaign(request, slug)
    if request.method != "POST":
        return _settings_page(request, campaign=campaign, values=_form_values(campaign))
    data = _settings_from_form(request.POST, [*SETTINGS_FIELDS, "status"])
    serializer = CampaignSerializer(campaign, data=data, partial=True, context={"request": request})
    if not serializer.is_valid():
        return _settings_page(request, campaign=campaign, values=_form_values(campaign, request.POST),
                              errors=_field_errors(serializer), status=400)
    services.campaign_update(campaign=campaign, user=request.user, **serializer.validated_data)
    messages.success(request, "Settings saved.")
    return redirect("campaigns:detail", slug=campaign.slug)


@require_POST
@login_required
def campaign_archive(request, slug):
    campaign = _lead_campaign(request, slug)
    services.campaign_archive(campaign=campaign)
    messages.success(request, f"{campaign.name} is archived: no more tasks are handed out. "
                              "Set its status on the settings page to bring it back.")
    return redirect("campaigns:detail", slug=campaign.slug)


@login_required
def guidelines_edit(request, slug):
    """Leads: edit the guidelines with a preview; each save is a new version with its note."""
    campaign = _lead_campaign(request, slug)
    values, errors, status = {"guidelines": campaign.guidelines, "guidelines_note": ""}, {}, 200
    if request.method == "POST":
        data = {"guidelines": request.POST.get("guidelines", ""), "guidelines_note": request.POST.get("guidelines_note", "")}
        serializer = CampaignSerializer(campaign, data=data, partial=True, context={"request": request})
        if serializer.is_valid():
            before = campaign.guidelines_version
            services.campaign_update(campaign=campaign, user=request.user, **serializer.validated_data)
            if campaign.guidelines_version == before:
                messages.info(request, "The guidelines did not change; no new version.")
            else:
                messages.success(request, f"Guidelines saved as version {campaign.guidelines_version}.")
            return redirect("campaigns:guidelines", slug=campaign.slug)
        values, errors, status = data, _field_errors(serializer), 400
    return render(request, "campaigns/guidelines_edit.html", {
        "campaign": campaign, "values": values, "errors": errors,
    }, status=status)


@login_required
def guidelines(request, slug):
    """Any member: the current guidelines, their versions with change notes, and — with
    ``?since=N`` (the labeling page links here with the version the labeler last read) — a line
    diff of what changed since then."""
    campaign = selectors.campaign_get(user=request.user, slug=slug)
    since = request.GET.get("since", "")
    changes = selectors.guideline_changes(campaign=campaign, since=int(since)) if since.isdigit() else None
    return render(request, "campaigns/guidelines.html", {
        "campaign": campaign, "changes": changes, "is_lead": Role.LEAD in campaign.roles_of(request.user),
        "versions": selectors.guideline_versions(campaign=campaign)[:50],
    })


# --- invitations ----------------------------------------------------------------------------


@login_required
def invitation_list(request):
    """Your invitations: accept one to join its campaign, or decline it."""
    return render(request, "campaigns/invitations.html", {"invitations": selectors.invitations_pending(user=request.user)})


@require_POST
@login_required
def invitation_accept(request, pk):
    invitation = selectors.invitation_pending_get(user=request.user, pk=pk)
    try:
        services.invitation_accept(invitation=invitation, user=request.user)
    except services.InvitationClosed as exc:
        messages.error(request, str(exc))
        return redirect("invitations")
    messages.success(request, f"You joined {invitation.campaign.name} as {invitation.get_role_display().lower()}.")
    if invitation.role == Role.LABELER:
        return redirect("labeling:home")
    return redirect("campaigns:detail", slug=invitation.campaign.slug)


@require_POST
@login_required
def invitation_decline(request, pk):
    invitation = selectors.invitation_pending_get(user=request.user, pk=pk)
    try:
        services.invitation_decline(invitation=invitation, user=request.user)
    except services.InvitationClosed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"You declined the invitation to {invitation.campaign.name}.")
    return redirect("invitations")


@require_POST
@login_required
def invitation_revoke(request, slug, pk):
    """Leads: withdraw a pending invitation (from the members page)."""
    campaign, _ = selectors.campaign_with_role(user=request.user, slug=slug, allowed={Role.LEAD})
    invitation = selectors.invitation_get(campaign=campaign, pk=pk)
    try:
        services.invitation_revoke(invitation=invitation)
    except services.InvitationClosed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The invitation to {invitation.invitee_name} is revoked.")
    return redirect("members", slug=campaign.slug)
