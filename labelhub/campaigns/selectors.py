"""Reads for campaigns, always scoped to the user asking."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import Count, Prefetch, Q
from django.http import Http404

from labelhub.campaigns.models import (
    SEARCH_CONFIG,
    Campaign,
    Completion,
    GuidelineVersion,
    ImportBatch,
    Invitation,
    Membership,
    Passage,
    Policy,
    Prompt,
    Role,
    passage_vector,
)

#: The most words of a question a retrieval query keeps.
RETRIEVAL_WORDS_MAX = 64
#: Roles that may read a campaign's prompts, policies and completions. Labelers see
#: completions only inside the tasks they are given.
CONTENT_READERS = {Role.LEAD, Role.REVIEWER, Role.ENGINEER}


def campaign_list(*, user):
    """The campaigns the user is a member of, with counts for list pages."""
    return (
        Campaign.objects.for_user(user)
        .annotate(
            prompt_count=Count("prompts", distinct=True),
            member_count=Count("memberships__user", distinct=True),
        )
        .order_by("-created_at")
    )


def campaign_get(*, user, slug: str) -> Campaign:
    """The campaign with this slug if the user is a member; 404 otherwise (no existence leak)."""
    campaign = Campaign.objects.for_user(user).filter(slug=slug).first()
    if campaign is None:
        raise Http404("No such campaign.")
    return campaign


def campaign_with_role(*, user, slug: str, allowed: set[str]) -> tuple[Campaign, set[str]]:
    """For pages: the campaign (404 for non-members) and the user's roles, which must include
    one of ``allowed`` (403 otherwise)."""
    from django.core.exceptions import PermissionDenied

    campaign = campaign_get(user=user, slug=slug)
    roles = campaign.roles_of(user)
    if not roles & allowed:
        raise PermissionDenied("Your role in this campaign does not allow this.")
    return campaign, roles


def roles_by_campaign(*, user) -> dict[int, set[str]]:
    roles: dict[int, set[str]] = {}
    for campaign_id, role in Membership.objects.filter(user=user).values_list("campaign_id", "role"):
        roles.setdefault(campaign_id, set()).add(role)
    return roles


def member_list(*, campaign: Campaign):
    return campaign.memberships.select_related("user").order_by("role", "user__username")


def membership_get(*, campaign: Campaign, pk: int) -> Membership:
    membership = campaign.memberships.select_related("user").filter(pk=pk).first()
    if membership is None:
        raise Http404("No such member.")
    return membership


def invitation_list(*, campaign: Campaign):
    """A campaign's invitations, newest first, each naming the invitee as the lead wrote it."""
    return campaign.invitations.select_related("invited_by").order_by("-created_at", "-id")


def invitation_get(*, campaign: Campaign, pk: int) -> Invitation:
    invitation = campaign.invitations.filter(pk=pk).first()
    if invitation is None:
        raise Http404("No such invitation.")
    return invitation


def invitations_pending(*, user):
    """The invitations waiting for this user's answer."""
    return (
        Invitation.objects.addressed_to(user).filter(state=Invitation.State.PENDING)
        .select_related("campaign", "invited_by").order_by("-created_at", "-id")
    )


def invitation_pending_get(*, user, pk: int) -> Invitation:
    """One of the user's pending invitations; 404 for any other (answered, or someone else's)."""
    invitation = invitations_pending(user=user).filter(pk=pk).first()
    if invitation is None:
        raise Http404("No such invitation for you.")
    return invitation


def prompt_list(*, campaign: Campaign, split: str | None = None, search: str | None = None):
    prompts = campaign.prompts.all()
    if split:
        prompts = prompts.filter(split=split)
    if search:
        prompts = prompts.filter(Q(text__icontains=search) | Q(messages__icontains=search))
    return prompts.annotate(completion_count=Count("completions")).order_by("id")


def prompts_with_completions(*, campaign: Campaign, split: str | None = None, search: str | None = None):
    completions = Completion.objects.select_related("policy").order_by("id")
    prompts = prompt_list(campaign=campaign, split=split, search=search)
    return prompts.prefetch_related(Prefetch("completions", queryset=completions))


#: A prompt's reference answer: ``metadata["reference"]`` (set at import). Prompt-lab ROUGE is
#: measured against it, and train prompts that have one are the one/few-shot examples.
REFERENCE_KEY = "reference"


def reference_of(prompt: Prompt) -> str | None:
    value = (prompt.metadata or {}).get(REFERENCE_KEY) if isinstance(prompt.metadata, dict) else None
    return value if isinstance(value, str) and value.strip() else None


def reference_examples(*, campaign: Campaign, limit: int) -> list[dict]:
    """The first ``limit`` train prompts with a reference answer, as {"prompt", "response"}
    (oldest first, so a few-shot prompt is the same every run)."""
    examples = []
    prompts = campaign.prompts.filter(split=Prompt.Split.TRAIN, metadata__has_key=REFERENCE_KEY).order_by("id")
    for prompt in prompts.iterator(chunk_size=200):
        if (reference := reference_of(prompt)) is not None:
            examples.append({"prompt": prompt.messages if prompt.is_chat else prompt.text, "response": reference})
            if len(examples) >= limit:
                break
    return examples


def policy_list(*, campaign: Campaign):
    policies = campaign.policies.select_related("parent").annotate(completion_count=Count("completions"))
    return policies.order_by("id")


def completion_list(*, campaign: Campaign, prompt_id: int | None = None, policy_id: int | None = None):
    completions = Completion.objects.filter(prompt__campaign=campaign).select_related("policy")
    if prompt_id:
        completions = completions.filter(prompt_id=prompt_id)
    if policy_id:
        completions = completions.filter(policy_id=policy_id)
    return completions.order_by("id")


def policy_get(*, campaign: Campaign, pk: int) -> Policy:
    policy = campaign.policies.filter(pk=pk).first()
    if policy is None:
        raise Http404("No such policy.")
    return policy


def prompt_get(*, campaign: Campaign, pk: int) -> Prompt:
    prompt = campaign.prompts.filter(pk=pk).first()
    if prompt is None:
        raise Http404("No such prompt.")
    return prompt


def comparison_policies(policy: Policy) -> list[Policy]:
    """Earlier versions to judge ``policy`` against: its parent, the best, the root base."""
    chain, ancestor = [], policy.parent
    while ancestor is not None:
        chain.append(ancestor)
        ancestor = ancestor.parent
    best = Policy.objects.filter(campaign_id=policy.campaign_id, is_best=True).exclude(pk=policy.pk).first()
    picked = []
    for candidate in (chain[0] if chain else None, best, chain[-1] if chain else None):
        if candidate is not None and candidate not in picked:
            picked.append(candidate)
    return picked


def has_held_out_completions(policy: Policy) -> bool:
    held_out = Prompt.objects.filter(campaign_id=policy.campaign_id, split=Prompt.Split.HELD_OUT)
    return Completion.objects.filter(policy=policy, prompt__in=held_out).exists()


def comparable_against(policy: Policy) -> list[Policy]:
    """The versions ``policy`` can be judged against on the held-out prompts: those of
    :func:`comparison_policies` that have held-out completions or can generate them."""
    return [p for p in comparison_policies(policy) if p.base_model or has_held_out_completions(p)]


def policies_ready_to_send(*, campaign: Campaign, policies) -> set[int]:
    """Of ``policies``, those that going to labeling would add to: no completions on the
    held-out prompts yet (a version the loop sent has them), a base model to generate them
    with, and an earlier version to be compared with — on a campaign with held-out prompts."""
    if not campaign.prompts.filter(split=Prompt.Split.HELD_OUT).exists():
        return set()
    with_held_out = set(Completion.objects.filter(prompt__campaign=campaign, prompt__split=Prompt.Split.HELD_OUT)
                        .values_list("policy_id", flat=True).distinct())
    return {p.id for p in policies
            if p.base_model and p.id not in with_held_out and comparable_against(p)}
def import_list(*, campaign: Campaign):
    """The campaign's imports, newest first (prompts and pairs, queued ones too)."""
    return ImportBatch.objects.filter(campaign=campaign).select_related("uploaded_by").order_by("-created_at", "-id")


def import_get(*, campaign: Campaign, pk: int) -> ImportBatch:
    batch = import_list(campaign=campaign).filter(pk=pk).first()
    if batch is None:
        raise Http404("No such import.")
    return batch


def guideline_versions(*, campaign: Campaign):
    """The campaign's guideline versions, newest first."""
    return GuidelineVersion.objects.filter(campaign=campaign).select_related("created_by").order_by("-version")


@dataclass(frozen=True)
class GuidelineChanges:
    """What changed in a campaign's guidelines from version ``since`` to the current one: the
    versions in between (their notes) and a line diff (``lines``: (kind, text), kind one of
    ``"same"``, ``"added"``, ``"removed"``)."""

    since: int
    current: int
    versions: list
    lines: list[tuple[str, str]]


def guideline_changes(*, campaign: Campaign, since: int) -> GuidelineChanges | None:
    """The changes since version ``since``; None when ``since`` is not an earlier version of
    this campaign's guidelines (nothing to compare)."""
    if not 1 <= since < campaign.guidelines_version:
        return None
    old = GuidelineVersion.objects.filter(campaign=campaign, version=since).values_list("text", flat=True).first()
    if old is None:
        return None
    newer = list(guideline_versions(campaign=campaign).filter(version__gt=since))
    kinds = {" ": "same", "+": "added", "-": "removed"}
    lines = [
        (kinds[line[0]], line[2:])
        for line in difflib.ndiff(old.splitlines(), campaign.guidelines.splitlines())
        if line[0] in kinds
    ]
    return GuidelineChanges(since=since, current=campaign.guidelines_version, versions=newer, lines=lines)


# --- the document collection ------------------------------------------------------------------


def passage_list(*, campaign: Campaign):
    return campaign.passages.order_by("id")


def retrieval_query(text: str) -> SearchQuery:
    """A question as a full-text query that matches passages holding any of its words (ranked
    by how many and how often): ``websearch_to_tsquery`` of the words joined by ``or``, so that
    stop words drop out and nothing in the text is read as query syntax."""
    words = re.findall(r"\w+", text)[:RETRIEVAL_WORDS_MAX]
    return SearchQuery(" or ".join(words), search_type="websearch", config=SEARCH_CONFIG)


def passages_retrieve(*, campaign_id: int, text: str, k: int) -> list[Passage]:
    """The top ``k`` passages of the campaign's collection for ``text`` by PostgreSQL full-text
    search (``ts_rank`` over the GIN-indexed vector; ties by id), best first. One query."""
    if k <= 0 or not text.strip():
        return []
    query = retrieval_query(text)
    vector = passage_vector()
    return list(
        Passage.objects.annotate(search=vector, rank=SearchRank(vector, query))
        .filter(campaign_id=campaign_id, search=query)
        .order_by("-rank", "id")[:k]
    )


def prompt_query_text(prompt: Prompt) -> str:
    """What retrieval searches for a prompt: its text, or its chat's last user turn."""
    if not prompt.is_chat:
        return prompt.text
    users = [m.get("content") for m in prompt.messages if isinstance(m, dict) and m.get("role") == "user"]
    last = users[-1] if users else ""
    return last if isinstance(last, str) else ""
