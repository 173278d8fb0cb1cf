import random

import pytest

from labelhub.campaigns.models import Completion, Policy, Prompt, Role, content_hash
from labelhub.campaigns.services import membership_add
from labelhub.labeling import services as labeling

GOOD = ["kind", "clear", "helpful", "calm", "friendly", "gentle", "honest", "careful"]
BAD = ["rude", "angry", "lazy", "wrong", "cruel", "harsh", "sloppy", "nasty"]


def answer(rng, words, tail):
    return f" The answer is {' and '.join(rng.sample(words, 2))}. {tail}"


@pytest.fixture
def judged_campaign(campaign, labeler, make_user):
    """60 prompts × (good, mixed, bad) completions, ranked good > mixed > bad by two labelers."""
    rng = random.Random(0)
    policies = [Policy.objects.create(campaign=campaign, name=n) for n in ("good", "mixed", "bad")]
    prompts = Prompt.objects.bulk_create([
        Prompt(campaign=campaign, text=f"Question {i}: how do I stay calm?", content_hash=content_hash(f"q{i}"))
        for i in range(60)])
    completions = []
    for prompt in prompts:
        tail = rng.choice(["I hope this helps.", "That is all."])
        texts = [answer(rng, GOOD, tail), f" The answer is {rng.choice(GOOD)} and {rng.choice(BAD)}. {tail}",
                 answer(rng, BAD, tail)]
        completions += [Completion(prompt=prompt, policy=policy, text=text, content_hash=content_hash(text))
                        for policy, text in zip(policies, texts, strict=True)]
    Completion.objects.bulk_create(completions)
    labeling.tasks_create(campaign=campaign)
    second = make_user("labeler2")
    membership_add(campaign=campaign, user=second, role=Role.LABELER)
    quality = {p.id: rank for rank, p in enumerate(policies)}
    policy_of = {c.pk: c.policy_id for c in completions}
    # the judgments go through the real queue and submit service
    for user in (labeler, second):
        while (a := labeling.next_task(labeler=user)) is not None:
            order = sorted(a.display_order, key=lambda cid: quality[policy_of[cid]])
            labeling.judgment_submit(labeler=user, assignment_id=a.pk,
                                     data={"idempotency_key": f"{user.username}-{a.pk:06d}", "ranking": [[c] for c in order]})
    return campaign


def judge_all(campaign, labeler, order_of, *, seconds=20.0):
    """The labeler takes every task left for them and ranks it ``order_of(completions)`` (best
    first; a list of groups), through the queue and the submit service."""
    while (a := labeling.next_task(labeler=labeler, campaign=campaign)) is not None:
        completions = list(Completion.objects.filter(pk__in=a.display_order).select_related("policy"))
        labeling.judgment_submit(labeler=labeler, assignment_id=a.pk, data={
            "idempotency_key": f"{labeler.username}-{a.pk:06d}", "ranking": order_of(completions),
            "time_spent_ms": int(seconds * 1000)})


def by_policy(*names):
    """Rank completions by their policy's place in ``names`` (best first)."""
    return lambda completions: [[c.pk] for c in sorted(completions, key=lambda c: names.index(c.policy.name))]


@pytest.fixture
def three_labelers(campaign, labeler, make_user):
    """The shared campaign with overlap 3 and two more labelers: ann, bob (and ``labeler``)."""
    campaign.overlap = 3
    campaign.save(update_fields=["overlap"])
    others = [make_user(name) for name in ("ann", "bob")]
    for user in others:
        membership_add(campaign=campaign, user=user, role=Role.LABELER)
    return [labeler, *others]


def add_tasks(campaign, n, *, start=0):
    """``n`` prompts answered by the policies good, fair and poor; one rank task each (K=3)."""
    policies = [Policy.objects.get_or_create(campaign=campaign, name=name)[0] for name in ("good", "fair", "poor")]
    for i in range(start, start + n):
        prompt = Prompt.objects.create(campaign=campaign, text=f"Question {i}?", content_hash=content_hash(f"q{i}"))
        for policy in policies:
            text = f" {policy.name} answer to {i}" + " more" * (3 * policies.index(policy))
            Completion.objects.create(prompt=prompt, policy=policy, text=text, content_hash=content_hash(text))
    return labeling.tasks_create(campaign=campaign)
