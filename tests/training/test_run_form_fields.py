"""The runs page's start forms are generated from each kind's config schema: one input per
config field (number with its bounds, select for a choice, checkbox for a yes/no, text with
its longest length, a list as comma-separated items), the default a run would take filled in
(the kind's, the campaign's K, the policy's template and sampling settings), the field's help
and bounds next to it; basics first, the other groups folded (issue 18 point 5)."""

import json
import re

import pytest

from labelhub.training import kinds
from tests.training.run_form_support import form_attrs, form_fields

pytestmark = pytest.mark.django_db

LIST = "/campaigns/helpful/runs/"


@pytest.fixture
def page(client, engineer, policy, snapshot, reward_model, prompts):
    client.force_login(engineer)
    return client.get(LIST).content.decode()


def form_html(html: str, kind: str) -> str:
    start = html.index(f'data-run-kind="{kind}"')
    return html[start:html.index("</form>", start)]


@pytest.mark.parametrize("name", sorted(kinds.KINDS))
def test_it_renders_one_input_for_each_config_field_of_the_kind(page, name):
    kind = kinds.get(name)
    posted = {field for field, _ in form_fields(page, name) if field.startswith("config.")}
    assert posted == {f"config.{field}" for field in kind.config_schema()["properties"]}
    assert not posted & {f"config.{field}" for field in kind.platform_fields}  # inputs come from the selects


def test_each_input_fits_its_fields_type_and_bounds(page):
    attrs = form_attrs(page, "generate")
    samples = attrs["config.num_samples"]
    assert (samples["type"], samples["min"], samples["max"], samples["step"]) == ("number", "1", "1024", "1")
    assert attrs["config.temperature"]["step"] == "any" and attrs["config.temperature"]["max"] == "100"
    assert "min" not in attrs["config.top_p"]  # > 0 has no HTML attribute; the words say it: (> 0; ≤ 1)
    assert attrs["config.do_sample"]["type"] == "hidden"  # the "false" an unticked box still posts
    assert attrs["config.examples"]["maxlength"] == "4096"
    dpo = form_attrs(page, "dpo")
    assert dpo["config.lora_target_modules"]["placeholder"] == "comma-separated"
    html = form_html(page, "generate")
    assert '<select id="run-generate-template" name="config.template"' in html
    assert re.search(r'<input type="checkbox" id="run-generate-do_sample" name="config.do_sample" value="true" checked', html)


def test_each_field_shows_the_default_a_run_would_take(page, campaign, policy):
    values = dict(form_fields(page, "generate"))
    assert values["config.num_samples"] == str(campaign.completions_per_task) == "3"  # the campaign's K
    assert values["prompt_split"] == "train"
    assert (values["config.temperature"], values["config.max_new_tokens"]) == ("0.7", "32")  # the policy's
    assert (values["config.seed"], values["config.template"], values["config.top_p"]) == ("0", "zero-shot", "1.0")
    reward = dict(form_fields(page, "reward"))
    assert (reward["config.model"], reward["config.max_steps"], reward["config.learning_rate"]) == ("tiny-rm", "30", "0.001")
    assert dict(form_fields(page, "dpo"))["config.lora_target_modules"] == "all-linear"
    assert dict(form_fields(page, "ppo"))["config.kl_target"] == ""  # optional, unset


def test_help_and_bounds_sit_next_to_each_field(page):
    html = form_html(page, "generate")
    help_ = html.split('id="run-generate-num_samples-help">', 1)[1].split("</span></span>", 1)[0]
    assert "Completions per prompt." in help_ and "(≥ 1; ≤ 1,024)" in help_
    assert 'aria-describedby="run-generate-num_samples-help"' in html
    dpo = form_html(page, "dpo")
    assert "each one of sigmoid, hinge, ipo" in dpo and "at most 15 items" in dpo


def test_basics_come_first_and_the_other_groups_are_folded(page):
    html = form_html(page, "ppo")
    basics = html.split("<legend>Basics</legend>", 1)[1].split("</fieldset>", 1)[0]
    for name in kinds.get("ppo").basics:
        assert f'name="config.{name}"' in basics, name
    assert 'name="config.lora_r"' not in basics
    folded = re.findall(r'<details class="config-group"( open)?><summary>([^<]+)<', html)
    assert [title.strip() for _, title in folded] == ["Training", "LoRA", "Sampling and prompts", "KL control",
                                                       "Rewards", "Guards and evaluation", "Advanced"]
    assert not any(is_open for is_open, _ in folded)
    assert html.index("<legend>Basics</legend>") < html.index("<summary>LoRA")


def test_a_policys_option_carries_the_defaults_it_brings(page, policy):
    html = form_html(page, "generate")
    option = re.search(rf'<option value="{policy.pk}"[^>]* data-defaults="([^"]+)"', html)
    defaults = json.loads(option.group(1).replace("&quot;", '"'))
    assert defaults == {"template": "zero-shot", "max_new_tokens": "32", "temperature": "0.7"}
    assert 'data-default="1.0"' in html.split('id="run-generate-temperature"', 1)[1].split(">", 1)[0]


def test_no_form_is_open_unless_asked_and_kind_opens_one(client, engineer, page):
    assert '<details class="run-kind" data-run-kind="generate" id="start-generate">' in page
    html = client.get(f"{LIST}?kind=generate").content.decode()
    assert '<details class="run-kind" data-run-kind="generate" id="start-generate" open>' in html
    assert '<option value="generate" selected>' in html  # the kind picker (run-form.js) says the same


def test_readers_who_cannot_start_runs_get_no_form(client, reviewer, policy):
    client.force_login(reviewer)
    html = client.get(LIST).content.decode()
    assert "run-form" not in html and 'name="config.' not in html and "run-form.js" not in html
