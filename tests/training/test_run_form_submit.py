"""Submitting a start form: the run gets exactly the config the form showed, checked by the same
``run_create`` rules as the API; on any error nothing is queued and each error appears under its
field (``config.num_samples`` under that input, a missing snapshot under its select), with the
posted values kept and the group holding the field unfolded (issue 18 point 5)."""

import json

import pytest
from django.db.models import Max
from procrastinate.contrib.django.models import ProcrastinateJob

from labelhub.campaigns.services import passages_import
from labelhub.feedback.models import Snapshot
from labelhub.training import kinds, services
from labelhub.training.models import Run
from tests.training.run_form_support import form_fields, post_body

pytestmark = pytest.mark.django_db

LIST = "/campaigns/helpful/runs/"
START = f"{LIST}start/"


@pytest.fixture
def engineer_client(client, engineer):
    client.force_login(engineer)
    return client


@pytest.fixture
def shown(engineer_client, campaign, policy, snapshot, reward_model, prompts):
    """``shown(kind)`` → the kind's start form as the page renders it: (name, value) pairs."""
    Snapshot.objects.create(campaign=campaign, kind=Snapshot.Kind.SFT, version=2, state=Snapshot.State.READY,
                            path=snapshot.path, row_count=12, judgment_count=12)
    passages_import(campaign=campaign, filename="domain.txt", data=b"A passage for a pretrain run.")
    html = engineer_client.get(LIST).content.decode()
    return lambda kind: form_fields(html, kind)


@pytest.fixture
def last_job_before(db):
    """The newest job before the test (the job table keeps rows of earlier transactional tests)."""
    return ProcrastinateJob.objects.aggregate(last=Max("id"))["last"] or 0


@pytest.fixture
def nothing_queued(last_job_before):
    def check() -> bool:
        queued = ProcrastinateJob.objects.filter(task_name=services.RUN_JOB, id__gt=last_job_before)
        return not Run.objects.exists() and not queued.exists()

    return check


def field_error(html: str, kind: str, name: str) -> str:
    marker = f'<span class="field-error" id="run-{kind}-{name}-error">'
    assert marker in html, f"no error under {name}"
    return html.split(marker, 1)[1].split("</span>", 1)[0]


@pytest.mark.parametrize("name", sorted(kinds.KINDS))
def test_the_form_as_shown_starts_a_run_with_the_defaults_a_run_takes(engineer_client, shown, campaign, policy, name):
    response = engineer_client.post(START, post_body(shown(name)))
    assert response.status_code == 302, response.content.decode()[-3000:]
    run = Run.objects.get()
    kind = kinds.get(name)
    expected = kind.check_config(kind.defaults_for(campaign=campaign, policy=policy if kind.policy else None))
    assert run.config == expected  # what the form showed, and nothing left at the trainer's own default
    assert run.prompt_split == (kind.prompts or "")


def test_changed_fields_are_stored_in_their_types(engineer_client, shown):
    body = post_body(shown("generate"), config__num_samples="5", config__do_sample=["false"],
                     config__top_p="0.9", config__prompt_split=None, prompt_split="held_out")
    assert engineer_client.post(START, body).status_code == 302
    run = Run.objects.get()
    assert (run.config["num_samples"], run.config["do_sample"], run.config["top_p"]) == (5, False, 0.9)
    assert run.prompt_split == "held_out"


def test_a_value_the_user_set_back_to_the_trainers_default_still_beats_the_policys(engineer_client, shown, policy):
    assert policy.generation_settings["temperature"] == 0.7
    assert engineer_client.post(START, post_body(shown("generate"), config__temperature="1.0")).status_code == 302
    assert Run.objects.get().config["temperature"] == 1.0


def test_lists_are_comma_separated_and_empty_fields_take_their_default(engineer_client, shown):
    body = post_body(shown("dpo"), config__lora_target_modules="q_proj, v_proj", config__loss_type="sigmoid,hinge",
                     config__loss_weights="1, 0.5", config__max_steps="")
    assert engineer_client.post(START, body).status_code == 302
    config = Run.objects.get().config
    assert (config["lora_target_modules"], config["loss_type"]) == (["q_proj", "v_proj"], ["sigmoid", "hinge"])
    assert config["loss_weights"] == [1.0, 0.5] and config["max_steps"] == kinds.get("dpo").defaults["max_steps"]


def test_an_out_of_bounds_value_is_shown_under_its_field_and_nothing_is_queued(engineer_client, shown, nothing_queued):
    response = engineer_client.post(START, post_body(shown("generate"), config__num_samples="5000"))
    assert response.status_code == 400
    html = response.content.decode()
    assert field_error(html, "generate", "num_samples") == "must be &lt;= 1024 (got 5000)"
    field = html.split('id="run-generate-num_samples"', 1)[1].split(">", 1)[0]
    assert 'value="5000"' in field and 'aria-invalid="true"' in field  # what was typed stays, marked
    assert '<a href="#run-generate-num_samples"><code>config.num_samples</code></a>: must be &lt;= 1024' in html
    assert '<details class="run-kind" data-run-kind="generate" id="start-generate" open>' in html
    assert nothing_queued()


def test_an_error_in_a_folded_group_unfolds_it(engineer_client, shown, nothing_queued):
    response = engineer_client.post(START, post_body(shown("dpo"), config__lora_r="0", config__beta="-1"))
    assert response.status_code == 400
    html = response.content.decode()
    assert field_error(html, "dpo", "lora_r") == "must be &gt;= 1 (got 0)"
    assert field_error(html, "dpo", "beta") == "must be &gt; 0 (got -1)"
    assert '<details class="config-group" open><summary>LoRA' in html
    assert '<details class="config-group"><summary>Training' in html  # no error there: still folded
    assert nothing_queued()


def test_a_missing_input_is_shown_under_its_select(engineer_client, shown, nothing_queued):
    response = engineer_client.post(START, post_body(shown("reward"), snapshot=""))
    assert response.status_code == 400
    assert field_error(response.content.decode(), "reward", "snapshot") == "a reward run needs a snapshot"
    assert nothing_queued()


def test_the_json_box_overrides_the_fields_it_names(engineer_client, shown):
    body = post_body(shown("generate"), config__num_samples="5", config=json.dumps({"num_samples": 2, "top_k": 7}))
    assert engineer_client.post(START, body).status_code == 302
    config = Run.objects.get().config
    assert (config["num_samples"], config["top_k"]) == (2, 7)


@pytest.mark.parametrize("text, message", [
    ("{not json", "Enter a valid JSON."),
    ('{"num_sampels": 2}', None),
    ("[1, 2]", "must be a JSON object of trainer config fields"),
])
def test_the_json_boxs_errors_are_shown_under_it(engineer_client, shown, nothing_queued, text, message):
    response = engineer_client.post(START, post_body(shown("generate"), config=text))
    assert response.status_code == 400
    html = response.content.decode()
    if message:
        assert field_error(html, "generate", "config") == message
        assert '<details class="config-group config-json" open>' in html
    else:  # a field the form does not have: named in the summary at the top of the form
        assert "<code>config.num_sampels</code>: is not a field of GenerateConfig (did you mean &#x27;num_samples&#x27;?)" in html
    assert nothing_queued()


def test_an_unknown_kind_is_named_above_the_forms(engineer_client, shown, nothing_queued):
    response = engineer_client.post(START, post_body(shown("generate"), kind="train-harder"))
    assert response.status_code == 400
    assert "<li><code>kind</code>: Select a valid choice. train-harder is not one of the available choices.</li>" in (
        response.content.decode())
    assert nothing_queued()
