"""Writes for campaigns: each service is one transaction and says what it changed."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from labelhub.campaigns import documents, events, import_jobs, imports
from labelhub.campaigns.imports import ImportRejected, RowError
from labelhub.campaigns.models import (
    RETRIEVAL_K_MAX,
    UNSUPPORTED_FLAG,
    Campaign,
    Completion,
    CompletionPassage,
    GuidelineVersion,
    ImportBatch,
    Invitation,
    Membership,
    Passage,
    Policy,
    Prompt,
    Role,
    content_hash,
)
from labelhub.core import webhooks
from labelhub.core.db import copy_rows


@transaction.atomic
def campaign_create(*, user, guidelines_note: str = "", **fields) -> Campaign:
    """Create a campaign; its creator becomes its lead. Its guidelines are version 1."""
    campaign = Campaign.objects.create(created_by=user, **fields)
    Membership.objects.create(campaign=campaign, user=user, role=Role.LEAD)
    GuidelineVersion.objects.create(
        campaign=campaign, version=campaign.guidelines_version, text=campaign.guidelines,
        note=guidelines_note.strip(), created_by=user,
    )
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, user=None, guidelines_note: str = "", **fields) -> Campaign:
    """Update a campaign. A change of guidelines is a new version (judgments record which one
    they were made under), kept with ``guidelines_note`` and who saved it."""
    changed = []
    for name, value in fields.items():
        if getattr(campaign, name) != value:
            setattr(campaign, name, value)
            changed.append(name)
    if "guidelines" in changed:
        campaign.guidelines_version += 1
        changed.append("guidelines_version")
        GuidelineVersion.objects.create(
            campaign=campaign, version=campaign.guidelines_version, text=campaign.guidelines,
            note=guidelines_note.strip(), created_by=user if user is not None and user.is_authenticated else None,
        )
    if changed:
        campaign.save(update_fields=[*changed, "updated_at"])
    if "status" in changed and campaign.status == Campaign.Status.DONE:
        webhooks.emit(campaign, webhooks.CAMPAIGN_COMPLETE, {"reason": "status_done", "status": campaign.status})
    return campaign


def campaign_archive(*, campaign: Campaign) -> Campaign:
    """Archive a campaign: the queue stops handing out its tasks (it serves active campaigns
    only); its data, judgments and snapshots stay. Setting another status brings it back."""
    return campaign_update(campaign=campaign, status=Campaign.Status.ARCHIVED)


@transaction.atomic
def campaign_delete(*, campaign: Campaign) -> None:
    """Delete a campaign and all it holds. Completions go first: their policy protects them."""
    Completion.objects.filter(prompt__campaign=campaign).delete()
    campaign.delete()


def membership_add(*, campaign: Campaign, user, role: str) -> Membership:
    """Enrol a user directly, without asking them: for fixtures, management commands (the demo,
    simulations) and the Django admin. The API and the pages invite instead
    (``invitation_create``); the person joins when they accept."""
    membership, _ = Membership.objects.get_or_create(campaign=campaign, user=user, role=role)
    return membership


class LastLead(Exception):
    """A campaign must keep at least one lead."""


class InvitationClosed(Exception):
    """The invitation was already accepted, declined or revoked (HTTP 409)."""


def _keep_a_lead(membership: Membership) -> None:
    """Refuse to take the lead role from ``membership`` when it is the campaign's last lead."""
    if membership.role != Role.LEAD:
        return
    leads = list(Membership.objects.select_for_update().filter(campaign_id=membership.campaign_id, role=Role.LEAD))
    if len(leads) <= 1:
        raise LastLead("A campaign needs at least one lead: add another lead first.")


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    """Take one role from a member. Their open WebSockets for the campaign check their roles
    again after the commit (``events``). Leases are the labeling app's:
    ``labeling.services.member_remove`` revokes them in the same transaction."""
    _keep_a_lead(membership)
    membership.delete()
    events.membership_changed_on_commit(campaign_id=membership.campaign_id, user_id=membership.user_id)


@transaction.atomic
def membership_role_change(*, membership: Membership, role: str) -> Membership:
    """Give a member another role in place of this one; if they already hold it, the two
    memberships become one. Returns the membership that holds ``role``."""
    if role == membership.role:
        return membership
    _keep_a_lead(membership)
    holder = Membership.objects.filter(campaign_id=membership.campaign_id, user_id=membership.user_id, role=role).first()
    if holder is not None:
        membership.delete()
    else:
        membership.role = role
        membership.save(update_fields=["role"])
        holder = membership
    events.membership_changed_on_commit(campaign_id=membership.campaign_id, user_id=membership.user_id)
    return holder


# --- invitations ------------------------------------------------------------------------------


@transaction.atomic
def invitation_create(*, campaign: Campaign, invited_by, name: str, by_email: bool, role: str) -> Invitation | None:
    """Invite the person with this username (or e-mail address) to take ``role``.

    The outcome does not depend on whether an account has that name: the invitation is
    recorded either way (an account that gets the name later sees it), so inviting reveals
    nothing about users outside the lead's campaigns. Inviting again while one is pending
    changes nothing. Returns the pending invitation, or None when a member of this campaign
    with that name already holds the role.
    """
    name = name.strip().lower() if by_email else name.strip()
    members = Membership.objects.filter(campaign=campaign, role=role)
    named = members.filter(user__email__iexact=name) if by_email else members.filter(user__username=name)
    if named.exists():
        return None
    invitation, _ = Invitation.objects.get_or_create(
        campaign=campaign, invitee_name=name, by_email=by_email, role=role, state=Invitation.State.PENDING,
        defaults={"invited_by": invited_by},
    )
    return invitation


def _answerable(invitation: Invitation, user) -> Invitation:
    """The invitation locked, if it is still pending and addressed to ``user``."""
    locked = Invitation.objects.addressed_to(user).select_for_update().filter(pk=invitation.pk).first()
    if locked is None:  # answered meanwhile by another account with the same e-mail address
        raise InvitationClosed("This invitation is no longer open.")
    if locked.state != Invitation.State.PENDING:
        raise InvitationClosed(f"This invitation was already {locked.get_state_display().lower()}.")
    return locked


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user) -> Membership:
    """The invited person says yes: they become a member with the invited role."""
    invitation = _answerable(invitation, user)
    membership, _ = Membership.objects.get_or_create(campaign_id=invitation.campaign_id, user=user, role=invitation.role)
    invitation.state, invitation.invitee, invitation.answered_at = Invitation.State.ACCEPTED, user, timezone.now()
    invitation.save(update_fields=["state", "invitee", "answered_at"])
    return membership


@transaction.atomic
def invitation_decline(*, invitation: Invitation, user) -> Invitation:
    """The invited person says no; the lead sees the invitation as declined."""
    invitation = _answerable(invitation, user)
    invitation.state, invitation.invitee, invitation.answered_at = Invitation.State.DECLINED, user, timezone.now()
    invitation.save(update_fields=["state", "invitee", "answered_at"])
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> Invitation:
    """A lead withdraws a pending invitation; it can no longer be accepted."""
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.state != Invitation.State.PENDING:
        raise InvitationClosed(f"This invitation was already {locked.get_state_display().lower()}.")
    locked.state, locked.answered_at = Invitation.State.REVOKED, timezone.now()
    locked.save(update_fields=["state", "answered_at"])
    return locked


@dataclass
class ImportResult:
    batch: ImportBatch

    def as_dict(self) -> dict:
        b = self.batch
        return {
            "id": b.id,
            "filename": b.filename,
            "format": b.format,
            "prompts_created": b.prompts_created,
            "prompts_skipped": b.prompts_skipped,
            "completions_created": b.completions_created,
            "completions_skipped": b.completions_skipped,
            "policies_created": b.policies_created,
        }


def prompts_import(*, campaign: Campaign, user, filename: str, data: bytes) -> ImportResult:
    """Import prompts (and their completions) all-or-nothing.

    Raises :class:`ImportRejected` naming each bad line and field; then nothing is written.
    Prompts already in the campaign (same content hash) are skipped and counted, as are
    completions already recorded for the same prompt and policy.
    """
    import_jobs.size_check(len(data))
    fmt = imports.detect_format(filename)
    started, totals = timezone.now(), []
    parsed = imports.parse_upload(data, fmt, progress=lambda checked, total: totals.append(total))
    with transaction.atomic():
        batch = ImportBatch.objects.create(campaign=campaign, uploaded_by=user, filename=filename[:255], format=fmt,
                                           size=len(data), lines_total=totals[-1], lines_checked=totals[-1],
                                           started_at=started)
        _write_prompts(batch, parsed)
        batch.finished_at = timezone.now()
        batch.save()
    return ImportResult(batch)


def prompts_import_upload(*, campaign: Campaign, user, upload) -> ImportResult:
    """An uploaded file (API or page): the size is checked before the file is read."""
    import_jobs.size_check(upload.size)
    try:
        return prompts_import(
            campaign=campaign, user=user, filename=upload.name or "upload", data=upload.read()
        )
    except IntegrityError:
        raise ImportRejected([RowError(None, "file", import_jobs.CONCURRENT)]) from None


def prompts_import_preview(*, upload) -> dict:
    """A dry run of an upload (API or page): its size is checked before it is read; nothing is written."""
    import_jobs.size_check(upload.size)
    return imports.preview_upload(upload.read(), imports.detect_format(upload.name or "upload"))


def prompts_import_queue(*, campaign: Campaign, user, upload) -> ImportBatch:
    """A large upload: its size and format are checked now, its lines by the job
    (``prompts_import_run``), which reports progress on the returned record."""
    import_jobs.size_check(upload.size)
    filename = upload.name or "upload"
    fmt = imports.detect_format(filename)
    return import_jobs.import_queue(campaign=campaign, user=user, kind=ImportBatch.Kind.PROMPTS,
                                    filename=filename, fmt=fmt, chunks=upload.chunks())


def prompts_import_run(*, batch_id: int) -> ImportBatch | None:
    """The job of a queued prompts import (``import_jobs.import_run``)."""
    return import_jobs.import_run(batch_id=batch_id, parse=imports.parse_upload, write=_write_prompts)


def _write_prompts(batch: ImportBatch, parsed: list[imports.ParsedPrompt]) -> None:
    """Write the prompts and completions (one COPY each: an import may hold 100,000); count on
    ``batch`` what was created and skipped. The caller saves the batch, in the same transaction."""
    campaign = batch.campaign
    existing = dict(
        Prompt.objects.filter(
            campaign=campaign, content_hash__in=[p.content_hash for p in parsed]
        ).values_list("content_hash", "id")
    )
    new_prompts, seen = [], set(existing)
    for item in parsed:
        if item.content_hash in seen:
            batch.prompts_skipped += 1
            continue
        seen.add(item.content_hash)
        new_prompts.append(item)
    batch.prompts_created = copy_rows(
        Prompt, ["campaign", "text", "messages", "metadata", "split", "content_hash", "import_batch"],
        ((campaign.pk, p.text, p.messages, p.metadata, p.split, p.content_hash, batch.pk) for p in new_prompts),
    )
    created = dict(Prompt.objects.filter(import_batch=batch).values_list("content_hash", "id"))
    policies = _policies_by_name(campaign, {c.policy for p in parsed for c in p.completions}, batch)
    batch.completions_created, batch.completions_skipped = _write_completions(
        parsed, existing, created, policies
    )


def _policies_by_name(campaign, names: set[str], batch: ImportBatch) -> dict[str, Policy]:
    policies = {p.name: p for p in Policy.objects.filter(campaign=campaign, name__in=names)}
    missing = [Policy(campaign=campaign, name=name) for name in sorted(names - set(policies))]
    Policy.objects.bulk_create(missing)
    batch.policies_created = len(missing)
    return policies | {p.name: p for p in missing}


def _write_completions(parsed, existing: dict[str, int], created: dict[str, int], policies: dict[str, Policy]):
    """The completions of the file, less those already recorded for the same prompt and policy
    (only prompts that were there before can have some); (created, skipped)."""
    prompt_ids = existing | created
    wanted = {}
    for item in parsed:
        prompt_id = prompt_ids[item.content_hash]
        for c in item.completions:
            key = (prompt_id, policies[c.policy].id, content_hash(c.text))
            wanted.setdefault(key, c)
    duplicates_in_file = sum(len(p.completions) for p in parsed) - len(wanted)
    recorded = set(
        Completion.objects.filter(prompt_id__in=set(existing.values())).values_list(
            "prompt_id", "policy_id", "content_hash"
        )
    )
    new = copy_rows(
        Completion, ["prompt", "policy", "content_hash", "text", "metadata"],
        ((*key, c.text, c.metadata) for key, c in wanted.items() if key not in recorded),
    )
    return new, duplicates_in_file + (len(wanted) - new)


@transaction.atomic
def completions_add_generated(*, policy: Policy, rows: list[dict]) -> int:
    """Record generated completions of a policy (``prompt_id``, ``text``, optional
    ``token_count``, ``seed``, ``generation_settings``, ``passage_ids``: the passages its
    prompt held); ones already recorded are skipped."""
    prompt_ids = set(Prompt.objects.filter(campaign_id=policy.campaign_id, id__in={r["prompt_id"] for r in rows})
                     .values_list("id", flat=True))
    unknown = sorted({r["prompt_id"] for r in rows} - prompt_ids)
    if unknown:
        raise ValueError(f"prompts {unknown[:5]} are not in the policy's campaign")
    existing = set(Completion.objects.filter(policy=policy, prompt_id__in=prompt_ids).values_list("prompt_id", "content_hash"))
    new, seen, used = [], set(existing), []
    for r in rows:
        # model output may hold NUL, which PostgreSQL text cannot store: shown as U+FFFD, never dropped
        text = r["text"].replace("\x00", "\ufffd")
        key = (r["prompt_id"], content_hash(text))
        if key in seen or not text.strip():
            continue
        seen.add(key)
        new.append(Completion(
            prompt_id=r["prompt_id"], policy=policy, text=text, content_hash=key[1],
            token_count=r.get("token_count"), seed=r.get("seed"), generation_settings=r.get("generation_settings") or {},
        ))
        used.append(r.get("passage_ids") or [])
    Completion.objects.bulk_create(new)
    _link_passages(policy.campaign_id, new, used)
    return len(new)


def _link_passages(campaign_id: int, completions: list[Completion], used: list[list[int]]) -> None:
    """Record which passages each new completion's prompt held (in retrieval order). Ids that
    are not (or no longer) passages of the campaign are left out."""
    wanted = {int(pid) for ids in used for pid in ids}
    if not wanted:
        return
    known = set(Passage.objects.filter(campaign_id=campaign_id, id__in=wanted).values_list("id", flat=True))
    CompletionPassage.objects.bulk_create([
        CompletionPassage(completion=c, passage_id=int(pid), rank=rank)
        for c, ids in zip(completions, used, strict=True)
        for rank, pid in enumerate(dict.fromkeys(int(p) for p in ids if int(p) in known), start=1)
    ])


# --- the document collection ------------------------------------------------------------------


@dataclass(frozen=True)
class PassagesImported:
    created: int
    skipped: int  # already in the collection, or repeated in the file


def passages_import_upload(*, campaign: Campaign, upload) -> PassagesImported:
    """An uploaded document file (API or page): its size is checked before it is read."""
    import_jobs.size_check(upload.size)
    return passages_import(campaign=campaign, filename=upload.name, data=upload.read())


@transaction.atomic
def passages_import(*, campaign: Campaign, filename: str, data: bytes) -> PassagesImported:
    """Add a document file's passages to the campaign's collection: all or nothing (raises
    ImportRejected naming each line at fault, having written nothing). A passage whose text
    the collection holds already is skipped."""
    parsed = documents.parse_documents(data, filename)
    existing = set(campaign.passages.filter(content_hash__in={p.content_hash for p in parsed})
                   .values_list("content_hash", flat=True))
    new, seen = [], set(existing)
    for p in parsed:
        if p.content_hash in seen:
            continue
        seen.add(p.content_hash)
        new.append(Passage(campaign=campaign, document=p.document, position=p.position, text=p.text,
                           content_hash=p.content_hash))
    Passage.objects.bulk_create(new)
    return PassagesImported(created=len(new), skipped=len(parsed) - len(new))


@transaction.atomic
def policy_save(*, serializer, campaign: Campaign) -> Policy:
    """Create or update a policy from its checked serializer. A retrieval-augmented policy
    gives its campaign the flag labelers use for answers their sources do not back."""
    policy = serializer.save(campaign=campaign)
    if policy.retrieves:
        campaign_flag_ensure(campaign=campaign, flag=UNSUPPORTED_FLAG)
    return policy


class PolicyInvalid(ValueError):
    """A policy that cannot be made as asked; the message names the field. Nothing was written."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@transaction.atomic
def policy_retrieval_version(*, policy: Policy, k: int) -> Policy:
    """The same policy (base, adapter, template, settings) with retrieval of the top ``k``
    passages: named ``<name>-rag<k>``, its parent the policy without retrieval, so the
    leaderboard compares the two."""
    if not 1 <= k <= RETRIEVAL_K_MAX:
        raise PolicyInvalid("retrieval_k", f"must be from 1 to {RETRIEVAL_K_MAX}")
    if policy.retrieves:
        raise PolicyInvalid("policy", f"{policy.name} retrieves already (top {policy.retrieval_k}); start from a policy without retrieval")
    if not policy.campaign.passages.exists():
        raise PolicyInvalid("retrieval_k", "the campaign has no documents to retrieve from: import some first")
    suffix = f"-rag{k}"
    name = policy.name[: 120 - len(suffix)] + suffix
    if policy.campaign.policies.filter(name=name).exists():
        raise PolicyInvalid("name", f"this campaign already has a policy named {name!r}")
    rag = Policy.objects.create(
        campaign=policy.campaign, name=name, base_model=policy.base_model, adapter_path=policy.adapter_path,
        parent=policy, generation_settings=policy.generation_settings, prompt_template_kind=policy.prompt_template_kind,
        prompt_template=policy.prompt_template, retrieval_k=k,
    )
    campaign_flag_ensure(campaign=policy.campaign, flag=UNSUPPORTED_FLAG)
    return rag


def campaign_flag_ensure(*, campaign: Campaign, flag: str) -> None:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if flag not in campaign.flag_vocabulary:
        campaign.flag_vocabulary = [*campaign.flag_vocabulary, flag]
        campaign.save(update_fields=["flag_vocabulary", "updated_at"])
