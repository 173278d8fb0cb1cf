"""Server-rendered pages for campaigns. Each view: check access, call a selector/service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from labelhub.campaigns import import_jobs, selectors, services
from labelhub.campaigns.imports import ImportRejected
from labelhub.campaigns.models import Role
from labelhub.campaigns.selectors import CONTENT_READERS
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


def _lead_campaign(request, slug):
    campaign = selectors.campaign_get(user=request.user, slug=slug)
    if Role.LEAD not in campaign.roles_of(request.user):
        raise PermissionDenied("Only the campaign's leads can import.")
    return campaign


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
