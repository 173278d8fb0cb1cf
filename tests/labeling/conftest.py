import pytest

from labelhub.campaigns.models import Completion, Policy, Prompt, content_hash
from labelhub.labeling import services


def add_prompts(campaign, n, per_prompt=3, policies=("base", "tuned", "other")):
    """n prompts, each with ``per_prompt`` completions from distinct policies."""
    pols = [Policy.objects.get_or_create(campaign=campaign, name=name)[0] for name in policies[:per_prompt]]
    prompts = Prompt.objects.bulk_create(
        Prompt(campaign=campaign, text=f"prompt {i}", content_hash=content_hash(f"prompt {i}")) for i in range(n)
    )
    Completion.objects.bulk_create(
        Completion(prompt=p, policy=pol, text=f"answer {j} to {p.text}", content_hash=content_hash(f"{p.id}-{j}"))
        for p in prompts
        for j, pol in enumerate(pols)
    )
    return prompts


@pytest.fixture
def tasks(campaign):
    """Five rank tasks of K=3 in the shared campaign (overlap 2)."""
    add_prompts(campaign, 5)
    assert services.tasks_create(campaign=campaign).made == 5
    return list(campaign.tasks.order_by("id"))


def ranking_for(assignment):
    """The display order as a strict ranking."""
    return [[cid] for cid in assignment.display_order]
