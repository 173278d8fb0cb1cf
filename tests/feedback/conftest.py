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
    for i in range(60):
        prompt = Prompt.objects.create(campaign=campaign, text=f"Question {i}: how do I stay calm?",
                                       content_hash=content_hash(f"q{i}"))
        tail = rng.choice(["I hope this helps.", "That is all."])
        texts = [answer(rng, GOOD, tail), f" The answer is {rng.choice(GOOD)} and {rng.choice(BAD)}. {tail}",
                 answer(rng, BAD, tail)]
        for policy, text in zip(policies, texts, strict=True):
            Completion.objects.create(prompt=prompt, policy=policy, text=text, content_hash=content_hash(text))
    labeling.tasks_create(campaign=campaign)
    second = make_user("labeler2")
    membership_add(campaign=campaign, user=second, role=Role.LABELER)
    quality = {p.id: rank for rank, p in enumerate(policies)}
    for user in (labeler, second):
        while (a := labeling.next_task(labeler=user)) is not None:
            order = sorted(a.display_order, key=lambda cid: quality[Completion.objects.get(pk=cid).policy_id])
            labeling.judgment_submit(labeler=user, assignment_id=a.pk,
                                     data={"idempotency_key": f"{user.username}-{a.pk:06d}", "ranking": [[c] for c in order]})
    return campaign
