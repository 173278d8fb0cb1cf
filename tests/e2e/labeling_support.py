"""Data and page helpers shared by the labeling page's browser tests (tests/e2e/test_label_*.py)."""

from __future__ import annotations

from playwright.sync_api import expect

from labelhub.campaigns import services as campaign_services
from labelhub.campaigns.models import Campaign, Completion, Policy, Prompt, Role, content_hash
from labelhub.labeling import services as labeling_services

PASSWORD = "pw-for-tests-123"  # make_user's default


def labeling_campaign(
    *, lead, labeler, kind=Campaign.TaskKind.RANK, prompts: list[tuple[str | list, list[str]]],
    axes=(), flags=(), guidelines="Rank the **most helpful** answer first.",
) -> Campaign:
    """An active campaign with one task per prompt: ``prompts`` is [(text or chat turns, [completion texts])]."""
    k = len(prompts[0][1])
    campaign = campaign_services.campaign_create(
        user=lead, name="Helpful answers", slug="helpful", task_kind=kind, completions_per_task=k,
        overlap=1, rating_axes=list(axes), flag_vocabulary=list(flags), guidelines=guidelines,
        status=Campaign.Status.ACTIVE,
    )
    campaign_services.membership_add(campaign=campaign, user=labeler, role=Role.LABELER)
    policies = [Policy.objects.create(campaign=campaign, name=f"policy-{j}") for j in range(k)]
    for i, (prompt_value, texts) in enumerate(prompts):
        chat = isinstance(prompt_value, list)
        prompt = Prompt.objects.create(
            campaign=campaign, text="" if chat else prompt_value, messages=prompt_value if chat else None,
            content_hash=content_hash(f"{i}:{prompt_value}"),
        )
        Completion.objects.bulk_create(
            Completion(prompt=prompt, policy=policy, text=text, content_hash=content_hash(text))
            for policy, text in zip(policies, texts, strict=True)
        )
    assert labeling_services.tasks_create(campaign=campaign).made == len(prompts)
    return campaign


def open_labeling(log_in, username, campaign):
    """Sign in and open the labeling page from the labeler home's "Start labeling" link."""
    page = log_in(username, PASSWORD)
    page.goto("/label/")
    page.get_by_role("link", name="Start labeling").click()
    expect(page.locator("#task[data-task-id]")).to_be_visible()
    assert f"campaign={campaign.slug}" in page.url
    return page


def task_on_screen(page) -> int:
    return int(page.locator("#task").get_attribute("data-task-id"))


def completion_ids_on_screen(page) -> list[int]:
    """Completion ids in display order (the order of the keys 1…K)."""
    return page.locator(".completion-card").evaluate_all("cards => cards.map(c => Number(c.dataset.id))")


def wait_for_task_after(page, task_id: int) -> None:
    """Wait until the page shows a task other than ``task_id`` (or the nothing-left message)."""
    expect(page.locator(f'#task[data-task-id="{task_id}"]')).to_have_count(0)
