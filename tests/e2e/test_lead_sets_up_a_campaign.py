"""In Chromium: a lead creates a campaign (a mistake is shown next to its field), edits the
guidelines with the preview and a change note, and marks a task's gold answer with the
labeling page's widgets. A labeler is refused the set-up pages; no page breaks the CSP."""


import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-123"


def signed_in(browser, port, username, violations):
    context = browser.new_context(base_url=f"http://127.0.0.1:{port}")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda error: violations.append(f"page error: {error}"))
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def test_a_lead_creates_a_campaign_edits_its_guidelines_and_marks_a_gold_answer(browser, asgi_server, campaign, lead, labeler):
    from playwright.sync_api import expect

    from labelhub.campaigns.models import Campaign, GuidelineVersion
    from labelhub.labeling import services as labeling_services
    from tests.labeling.conftest import add_prompts

    violations = []
    page = signed_in(browser, asgi_server, "lead", violations)
    page.goto("/campaigns/")
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Name", exact=True).fill("Safety review")
    page.get_by_label("Slug").fill("safety")
    page.get_by_label("Completions per task (K)").fill("3")
    page.get_by_label("Overlap").fill("0")
    page.get_by_label("Lease time").fill("30")
    page.locator('textarea[name="flag_vocabulary"]').fill("unsafe\noff-topic")
    page.get_by_role("button", name="Create campaign").click()
    expect(page.locator("#overlap-error")).to_contain_text("greater than or equal to 1")
    expect(page.locator("#lease_seconds-error")).to_contain_text("greater than or equal to 60")
    assert not Campaign.objects.filter(slug="safety").exists()
    expect(page.locator('textarea[name="flag_vocabulary"]')).to_have_value("unsafe\noff-topic")  # kept

    page.get_by_label("Overlap").fill("2")
    page.get_by_label("Lease time").fill("900")
    page.get_by_role("button", name="Create campaign").click()
    expect(page.locator("h1")).to_have_text("Safety review")
    created = Campaign.objects.get(slug="safety")
    assert (created.overlap, created.completions_per_task, created.flag_vocabulary) == (2, 3, ["unsafe", "off-topic"])
    assert created.lease_seconds == 900

    # guidelines: a preview as labelers see it, then a new version with its note
    page.goto("/campaigns/safety/guidelines/edit/")
    page.locator("#guidelines-text").fill("Rank the **safest** answer first.\n\n<script>alert(1)</script>")
    expect(page.locator("#guidelines-preview strong")).to_have_text("safest")
    expect(page.locator("#guidelines-preview script")).to_have_count(0)
    page.get_by_label("What changed").fill("Safety first")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.locator('#versions tr[data-version="2"]')).to_contain_text("Safety first")
    assert GuidelineVersion.objects.get(campaign=created, version=2).note == "Safety first"
    page.goto("/campaigns/safety/guidelines/?since=1")
    expect(page.locator("#changes .diff-added").first).to_contain_text("Rank the **safest** answer first.")

    # gold: rank a task's completions with the labeling widgets and save
    add_prompts(created, 1)
    assert labeling_services.tasks_create(campaign=created).made == 1
    task = created.tasks.get()
    order = [tc.completion_id for tc in task.task_completions.all()]
    page.goto("/campaigns/safety/")
    page.get_by_role("link", name="Tasks and gold").click()
    page.get_by_role("link", name="Set a gold answer").click()
    expect(page.locator("#pool .chip")).to_have_count(3)
    for cid in reversed(order):  # worst first in display order → best first is the last one
        page.locator(f'#pool .chip[data-id="{cid}"]').click()
    page.locator(f'[data-action=flag][data-id="{order[0]}"][data-flag="unsafe"]').click()
    page.get_by_role("button", name="Save gold answer").click()
    expect(page.locator("#gold-status")).to_contain_text("Saved")
    task.refresh_from_db()
    assert task.is_gold
    assert task.gold_answer == {"ranking": [[cid] for cid in reversed(order)], "flags": {str(order[0]): ["unsafe"]}}

    # a labeler of the campaign may not set it up
    labeler_page = signed_in(browser, asgi_server, "labeler", violations)
    assert labeler_page.goto("/campaigns/helpful/settings/").status == 403
    assert labeler_page.goto("/campaigns/helpful/guidelines/edit/").status == 403
    assert labeler_page.goto("/campaigns/helpful/tasks/").status == 403
    assert labeler_page.goto("/campaigns/safety/").status == 404  # not a member of the new one
    assert violations == []
