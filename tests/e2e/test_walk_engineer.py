"""The ML engineer's main path through the real pages, in Chromium: the campaign → Runs → the
Kind choice shows the generate form (fields from its schema, the campaign's K and train prompts
filled in) → another policy brings its sampling settings, and what was typed stays → an out-of-bounds num_samples comes
back under that field and nothing is queued → a valid one queues the run and opens its page
(issue 18 points 5 and 7)."""

import pytest
from playwright.sync_api import expect

from labelhub.campaigns.models import Policy, Prompt, content_hash
from labelhub.training import services
from labelhub.training.models import Run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-123"


@pytest.fixture
def its_jobs_removed():
    """The job this walk queues is deleted after it: the job table is not emptied between
    transactional tests, and later tests check that nothing was queued."""
    yield
    from django.db import connection

    run_ids = [str(pk) for pk in Run.objects.values_list("pk", flat=True)]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name = %s AND args->>'run_id' = ANY(%s)",
                       [services.RUN_JOB, run_ids])


def test_an_engineer_starts_a_generate_run_from_the_form(log_in, campaign, its_jobs_removed):
    Policy.objects.create(campaign=campaign, name="warm", base_model="tiny",
                          generation_settings={"temperature": 0.9, "max_new_tokens": 40})
    cool = Policy.objects.create(campaign=campaign, name="cool", base_model="tiny",
                                 generation_settings={"temperature": 0.3})
    for i in range(3):
        Prompt.objects.create(campaign=campaign, text=f"question {i}", content_hash=content_hash(f"q{i}"))

    page = log_in("engineer", PASSWORD)
    page.get_by_role("link", name=campaign.name).click()
    page.locator(".page-head").get_by_role("link", name="Runs").click()
    expect(page.get_by_role("heading", name="Start a run")).to_be_visible()
    page.get_by_label("Kind").select_option(label="Generate completions")
    generate = page.locator("details[data-run-kind=generate]")
    expect(generate).to_have_attribute("open", "")
    expect(page.locator("details[data-run-kind=reward]")).to_be_hidden()

    samples = generate.get_by_label("num_samples")
    expect(samples).to_have_value("3")  # the campaign's K
    expect(generate.get_by_label("Prompts")).to_have_value("train")
    expect(generate.get_by_text("Completions per prompt.")).to_be_visible()
    expect(generate.get_by_label("temperature")).to_have_value("0.3")  # the newest policy, cool, comes first
    generate.get_by_label("Policy").select_option(label="warm")
    expect(generate.get_by_label("temperature")).to_have_value("0.9")  # warm's settings …
    expect(generate.get_by_label("max_new_tokens")).to_have_value("40")
    generate.get_by_label("Policy").select_option(label="cool")
    expect(generate.get_by_label("max_new_tokens")).to_have_value("48")  # … and back to the kind's default
    generate.get_by_label("temperature").fill("0.5")
    generate.get_by_label("Policy").select_option(label="warm")
    expect(generate.get_by_label("temperature")).to_have_value("0.5")  # what the user typed stays
    expect(generate.get_by_label("max_new_tokens")).to_have_value("40")
    generate.get_by_label("Policy").select_option(label="cool")

    samples.fill("5000")
    generate.get_by_role("button", name="Start generate run").click()
    generate = page.locator("details[data-run-kind=generate]")
    error = generate.locator("#run-generate-num_samples-error")
    expect(error).to_have_text("must be <= 1024 (got 5000)")
    expect(generate.get_by_label("num_samples")).to_have_value("5000")
    expect(generate.get_by_label("num_samples")).to_have_attribute("aria-invalid", "true")
    expect(generate.get_by_role("alert")).to_contain_text("config.num_samples: must be <= 1024 (got 5000)")
    assert not Run.objects.exists()

    generate.get_by_label("num_samples").fill("4")
    generate.get_by_role("button", name="Start generate run").click()
    expect(page.get_by_role("status")).to_contain_text("is queued")
    run = Run.objects.get()
    assert page.url.endswith(f"/runs/{run.pk}/")
    assert (run.kind, run.policy_id, run.prompt_split, run.config["num_samples"]) == ("generate", cool.pk, "train", 4)
    assert run.config["temperature"] == 0.5
    expect(page.locator("main")).to_contain_text("waiting for a worker")  # queued: no worker in this test

    page.set_viewport_size({"width": 390, "height": 844})  # the runs page and its form fit a phone
    page.goto(f"/campaigns/{campaign.slug}/runs/?kind=generate")
    expect(page.locator("details[data-run-kind=generate]").get_by_label("num_samples")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
