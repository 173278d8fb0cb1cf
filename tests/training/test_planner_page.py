"""The planner page (/plan/) and the run form's estimate: the figures of trainer.plan in the
browser's page, errors under their fields, and under the policy select of each start form the
chosen policy's size, memory to train and to sample, with a link to the planner (issue 16.1)."""

import html
import json
import re

import pytest

from labelhub.campaigns.models import Policy

pytestmark = pytest.mark.django_db

PAGE = "/plan/"


@pytest.fixture
def model_folder(tmp_path):
    folder = tmp_path / "small"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({
        "model_type": "llama", "num_hidden_layers": 2, "hidden_size": 128, "num_attention_heads": 4,
        "intermediate_size": 384, "vocab_size": 2048, "tie_word_embeddings": True}))
    return folder


def test_it_shows_the_form_then_the_estimate(client, labeler):
    client.force_login(labeler)
    empty = client.get(PAGE).content.decode()
    assert 'name="config.params"' in empty and 'id="estimate"' not in empty
    page = client.get(PAGE, {"config.params": "70e9", "config.accelerator": "h100", "config.count": "8"})
    text = page.content.decode()
    assert page.status_code == 200 and 'id="estimate"' in text
    assert "1.4 T" in text  # compute-optimal tokens for 70 B
    assert "8 × NVIDIA H100 SXM 80 GB" in text
    assert 'value="70e9"' in text  # what was asked stays in the form


def test_errors_are_shown_under_their_fields(client, engineer):
    client.force_login(engineer)
    page = client.get(PAGE, {"config.layers": "4", "config.heads": "4", "config.vocab": "100"})
    text = page.content.decode()
    assert page.status_code == 400 and 'id="estimate"' not in text
    assert re.search(r'id="run-plan-hidden-error">[^<]*is required with', text)


def test_a_path_is_not_read_from_the_page(client, engineer):
    client.force_login(engineer)
    page = client.get(PAGE, {"config.model": "/etc"})
    assert page.status_code == 400 and "may only be tiny" in page.content.decode()


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_run_form_shows_the_chosen_policys_estimate(client, engineer, campaign, model_folder, prompts):
    Policy.objects.create(campaign=campaign, name="hub", base_model="org/unreachable")
    local = Policy.objects.create(campaign=campaign, name="local", base_model=str(model_folder))
    client.force_login(engineer)
    page = client.get(f"/campaigns/{campaign.slug}/runs/").content.decode()
    dpo = page[page.index('data-run-kind="dpo"'):]
    dpo = dpo[:dpo.index("</form>")]
    shown = re.search(r'data-plan-text>([^<]*)<', dpo).group(1)  # the newest policy is chosen first
    assert shown.startswith("689 k parameters; LoRA training at batch 8 needs about")
    options = dict(re.findall(r'<option value="(\d+)"[^>]*data-plan="([^"]*)"', dpo))
    hub = json.loads(html.unescape(next(v for k, v in options.items() if k != str(local.pk))))
    assert "org/unreachable" in hub["unavailable"] and "link" not in hub
    generate = page[page.index('data-run-kind="generate"'):]
    assert re.search(r'data-plan-text>689 k parameters; sampling needs about', generate)
    link = html.unescape(re.search(r'href="(/plan/\?[^"]*)" data-plan-link', dpo).group(1))
    planned = client.get(link)
    assert planned.status_code == 200 and "689 k (given)" in planned.content.decode()
