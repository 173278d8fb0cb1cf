"""In Chromium: the estimate under a start form's policy select follows the chosen policy, and
"open in the planner" carries that policy's shape to the planner page (issue 16.1)."""

import json

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_estimate_follows_the_policy_into_the_planner(log_in, campaign, engineer, tmp_path):
    from playwright.sync_api import expect

    from labelhub.campaigns.models import Policy

    for name, layers in (("two-layer", 2), ("four-layer", 4)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({
            "model_type": "llama", "num_hidden_layers": layers, "hidden_size": 128, "num_attention_heads": 4,
            "intermediate_size": 384, "vocab_size": 2048}))
        Policy.objects.create(campaign=campaign, name=name, base_model=str(folder))
    Policy.objects.create(campaign=campaign, name="from the hub", base_model="org/model")

    page = log_in("engineer", "pw-for-tests-123")
    page.goto("/campaigns/helpful/runs/?kind=sft")
    form = page.locator('details[data-run-kind="sft"]')
    estimate = form.locator("[data-plan-text]")
    expect(estimate).to_contain_text("none — 'org/model' is not a model folder on this machine")  # the newest first
    expect(form.locator("[data-plan-link]")).to_be_hidden()
    form.get_by_label("Policy").select_option(label="four-layer")
    expect(estimate).to_contain_text("1.12 M parameters; LoRA training at batch 8 needs about")
    form.get_by_label("Policy").select_option(label="two-layer")
    expect(estimate).to_contain_text("689 k parameters")
    form.locator("[data-plan-link]").click()
    page.wait_for_load_state()
    expect(page.locator("#estimate")).to_contain_text("689 k (given)")
    expect(page.locator("#estimate")).to_contain_text("2 layers, hidden 128, 4 heads")
    expect(page.locator("#run-plan-method")).to_have_value("lora")
