import pytest

from labelhub.campaigns.models import Campaign, Completion, Policy, Prompt, content_hash
from labelhub.campaigns.services import completions_add_generated
from labelhub.labeling import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions(campaign):
    base = Policy.objects.create(campaign=campaign, name="base")
    other = Policy.objects.create(campaign=campaign, name="sft")
    new = Policy.objects.create(campaign=campaign, name="base-ppo-r1", parent=base)
    prompts = [Prompt.objects.create(campaign=campaign, text=f"q{i}", content_hash=content_hash(f"q{i}"),
                                     split="held_out" if i < 4 else "train") for i in range(6)]
    for policy in (base, other):
        completions_add_generated(policy=policy, rows=[{"prompt_id": p.id, "text": f"{policy.name} {p.id}"} for p in prompts])
    return base, other, new, prompts


def test_it_records_generated_completions_once(versions):
    base, _, new, prompts = versions
    rows = [{"prompt_id": p.id, "text": f"new {p.id}", "token_count": 3, "seed": 7,
             "generation_settings": {"temperature": 0.8}} for p in prompts]
    assert completions_add_generated(policy=new, rows=rows) == 6
    assert completions_add_generated(policy=new, rows=rows) == 0
    c = Completion.objects.get(policy=new, prompt=prompts[0])
    assert (c.token_count, c.seed, c.generation_settings) == (3, 7, {"temperature": 0.8})


def test_it_refuses_prompts_of_another_campaign(versions, lead):
    from labelhub.campaigns.services import campaign_create

    other_campaign = campaign_create(user=lead, name="Other", slug="other")
    stray = Prompt.objects.create(campaign=other_campaign, text="x", content_hash="x")
    with pytest.raises(ValueError, match="not in the policy's campaign"):
        completions_add_generated(policy=versions[2], rows=[{"prompt_id": stray.id, "text": "y"}])


def test_it_pits_the_new_version_against_earlier_ones_on_held_out_prompts(campaign, versions):
    base, other, new, prompts = versions
    completions_add_generated(policy=new, rows=[{"prompt_id": p.id, "text": f"new {p.id}"} for p in prompts])
    created = services.version_tasks_create(campaign=campaign, policy=new, against=[base, other], priority=20)
    assert created == 4  # the held-out prompts only; K=3 → new + both others
    for task in campaign.tasks.all():
        policies = set(task.completions.values_list("policy__name", flat=True))
        assert policies == {"base", "sft", "base-ppo-r1"}
        assert task.priority == 20 and task.prompt.split == "held_out"
    assert services.version_tasks_create(campaign=campaign, policy=new, against=[base, other]) == 0


def test_it_makes_pairs_in_pairwise_campaigns(campaign, versions):
    base, other, new, prompts = versions
    Campaign.objects.filter(pk=campaign.pk).update(task_kind="pairwise", completions_per_task=2)
    campaign.refresh_from_db()
    completions_add_generated(policy=new, rows=[{"prompt_id": p.id, "text": f"new {p.id}"} for p in prompts])
    assert services.version_tasks_create(campaign=campaign, policy=new, against=[base, other]) == 8


def test_it_keeps_generated_text_with_a_nul_byte_as_a_replacement_character(versions):
    _, _, new, prompts = versions  # a byte-level model can sample U+0000, which PostgreSQL text cannot hold
    assert completions_add_generated(policy=new, rows=[{"prompt_id": prompts[0].id, "text": "a\x00b"}]) == 1
    assert Completion.objects.get(policy=new).text == "a\ufffdb"
