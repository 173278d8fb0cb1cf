"""The prompt lab on the platform (issue 16.2): a prompt_lab run samples the held-out prompts with
their reference answers, draws one/few-shot examples from the campaign's train prompts that have
one, and refuses a variant the campaign has too few examples for; its Run page shows the
variants and the answers side by side (escaped); a variant becomes a policy (page and API, leads
and engineers only) that the loop then samples with its template, shots and settings."""

import json
from pathlib import Path

import pytest

from labelhub.campaigns.models import Policy, Prompt, content_hash
from labelhub.training import loop, runner, services
from labelhub.training.models import Run
from tests.training.conftest import ANON, role_cases

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/runs/"
VARIANTS = [{"name": "zero-shot", "template": "zero-shot"},
            {"name": "2-shot", "template": "few-shot", "shots": 2, "temperature": 0.5}]
SCRIPT = "<script>alert('x')</script>"


@pytest.fixture
def referenced(campaign):
    """Two train prompts with a reference answer, one without; two held-out prompts, one with."""
    rows = [("train", "Capital of Italy?", "Rome."), ("train", "A fruit?", "An apple."), ("train", "No reference", None),
            ("held_out", "Capital of France?", "Paris."), ("held_out", "A colour?", None)]
    return [Prompt.objects.create(campaign=campaign, text=text, split=split, content_hash=content_hash(text),
                                  metadata={"reference": ref} if ref else {}) for split, text, ref in rows]


def test_it_samples_held_out_prompts_with_references_and_the_campaigns_examples(campaign, engineer, policy, referenced):
    run = services.run_create(campaign=campaign, user=engineer, kind="prompt_lab", policy=policy,
                              config={"variants": VARIANTS})
    assert run.prompt_split == "held_out" and run.config["variants"] == VARIANTS
    command = runner.prepare(run)
    assert command[-5:-3] == ["prompt-lab", "--config"]
    config = json.loads(Path(run.run_dir, runner.CONFIG_FILE).read_text())
    prompts = [json.loads(line) for line in Path(config["prompts"]).read_text().splitlines()]
    assert [(p["prompt"], p.get("reference")) for p in prompts] == [("Capital of France?", "Paris."), ("A colour?", None)]
    examples = [json.loads(line) for line in Path(config["examples"]).read_text().splitlines()]
    assert examples == [{"prompt": "Capital of Italy?", "response": "Rome."}, {"prompt": "A fruit?", "response": "An apple."}]
    assert (config["model"], config["adapter"], config["temperature"]) == ("tiny", None, 0.7)  # the policy's settings


def test_a_variant_needing_more_examples_than_the_campaign_has_is_refused(campaign, engineer, policy, referenced):
    with pytest.raises(services.RunInvalid) as err:
        services.run_create(campaign=campaign, user=engineer, kind="prompt_lab", policy=policy,
                            config={"variants": [*VARIANTS, {"name": "3-shot", "template": "few-shot", "shots": 3}]})
    assert err.value.errors == {"config.variants": 'variant 2 (3-shot) needs 3 examples: the campaign has 2 train '
                                                   'prompts with a reference answer (metadata "reference")'}
    assert not Run.objects.exists()


def test_a_bad_variant_is_refused_through_the_api_naming_the_field(client_as, policy, referenced):
    response = client_as("engineer").post(URL, {"kind": "prompt_lab", "policy": policy.pk, "config": {
        "variants": [{"name": "hot", "temperature": 0, "do_sample": True}]}}, format="json")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "config.variants" and "item 0 (hot): temperature must be > 0" in error["message"]


@pytest.fixture
def lab_run(make_run, policy):
    """A finished prompt lab: its summary and answers.jsonl as `trainer prompt-lab` writes them."""
    run = make_run(kind=Run.Kind.PROMPT_LAB, state=Run.State.SUCCEEDED, policy=policy, prompt_split="held_out")
    settings = {"shots": 3, "temperature": 0.7, "top_k": 0, "top_p": 1.0, "max_new_tokens": 32, "do_sample": True}
    run.summary = {"status": "succeeded", "prompts": 1, "with_reference": 1, "best_rougeL": "2-shot", "variants": [
        {"name": "zero-shot", "settings": settings | {"template": "zero-shot"}, "rouge1": 0.1, "rouge2": 0.0,
         "rougeL": 0.1, "mean_tokens": 9.0, "mean_words": 7.0, "eos_rate": 1.0},
        {"name": "2-shot", "settings": settings | {"template": "few-shot", "shots": 2, "temperature": 0.5},
         "rouge1": 0.5, "rouge2": 0.25, "rougeL": 0.5, "mean_tokens": 4.0, "mean_words": 3.0, "eos_rate": 1.0},
        {"name": "raw", "settings": settings | {"template": "raw"}, "rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0,
         "mean_tokens": 32.0, "mean_words": 20.0, "eos_rate": 0.0}]}
    run.save(update_fields=["summary"])
    Path(run.run_dir).mkdir(parents=True)
    answers = [{"variant": "zero-shot", "completion": SCRIPT, "tokens": 9, "finish_reason": "eos", "words": 2,
                "rouge1": 0.1, "rouge2": 0.0, "rougeL": 0.1},
               {"variant": "2-shot", "completion": "Paris, of course.", "tokens": 4, "finish_reason": "eos", "words": 3,
                "rouge1": 0.5, "rouge2": 0.25, "rougeL": 0.5},
               {"variant": "raw", "completion": "and then", "tokens": 32, "finish_reason": "length", "words": 2,
                "rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}]
    Path(run.run_dir, "answers.jsonl").write_text(json.dumps(
        {"id": 1, "prompt": "Capital of <b>France</b>?", "reference": "Paris.", "answers": answers}) + "\n")
    return run


def test_the_run_page_shows_variants_and_answers_side_by_side_escaped(client, engineer, lab_run):
    client.force_login(engineer)
    page = client.get(f"/campaigns/helpful/runs/{lab_run.pk}/").content.decode()
    variants = page[page.index('data-field="prompt-lab-variants"'):page.index('data-field="prompt-lab-answers"')]
    assert '<tr data-variant="2-shot" class="best">' in variants and "few-shot (2)" in variants
    assert "T 0.5" in variants and "0.250" in variants
    assert variants.count("Make a policy</button>") == 2  # raw has no policy template
    answers = page[page.index('data-field="prompt-lab-answers"'):]
    assert SCRIPT not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in answers
    assert "Capital of &lt;b&gt;France&lt;/b&gt;?" in answers
    assert answers.index("&lt;script&gt;") < answers.index("Paris, of course.") < answers.index("and then")
    assert "ROUGE-L 0.50" in answers and "cut at the limit" in answers


def test_a_reviewer_reads_the_lab_but_is_offered_no_policy(client, reviewer, lab_run):
    client.force_login(reviewer)
    page = client.get(f"/campaigns/helpful/runs/{lab_run.pk}/").content.decode()
    assert 'data-field="prompt-lab-answers"' in page and "Make a policy" not in page


def test_a_variant_becomes_a_policy_the_loop_samples_with_its_template(campaign, engineer, policy, lab_run, referenced):
    made = services.policy_from_variant(run=lab_run, variant="2-shot")
    assert (made.name, made.parent, made.base_model, made.prompt_template_kind) == (
        "base · 2-shot", policy, "tiny", Policy.TemplateKind.FEW_SHOT)
    assert made.generation_settings == {"max_new_tokens": 32, "do_sample": True, "temperature": 0.5, "top_k": 0,
                                        "top_p": 1.0, "shots": 2}
    loop_round = loop.send_to_labeling(policy=made, user=engineer)
    mine = loop_round.generation_runs.get(policy=made)
    assert (mine.config["template"], mine.config["shots"], mine.config["temperature"]) == ("few-shot", 2, 0.5)
    config = json.loads(Path(runner.prepare(mine)[-3]).read_text())
    assert len(Path(config["examples"]).read_text().splitlines()) == 2


@pytest.mark.parametrize(("variant", "name", "field", "words"), [
    ("7-shot", "", "variant", "has no variant '7-shot' (one of: zero-shot, 2-shot, raw)"),
    ("raw", "", "variant", "its template 'raw' is no policy template"),
    ("2-shot", "base", "name", "already has a policy named 'base'"),
])
def test_a_variant_that_cannot_be_a_policy_is_refused_naming_the_field(lab_run, variant, name, field, words):
    with pytest.raises(services.RunInvalid) as err:
        services.policy_from_variant(run=lab_run, variant=variant, name=name)
    assert words in err.value.errors[field]


def test_only_a_finished_prompt_lab_has_variants_to_adopt(make_run, policy, lab_run):
    lab_run.state = Run.State.RUNNING
    lab_run.save(update_fields=["state"])
    with pytest.raises(services.RunInvalid, match="only a finished prompt lab"):
        services.policy_from_variant(run=lab_run, variant="2-shot")
    other = make_run(kind=Run.Kind.GENERATE, state=Run.State.SUCCEEDED, policy=policy)
    with pytest.raises(services.RunInvalid, match="is a generate run"):
        services.policy_from_variant(run=other, variant="2-shot")


@pytest.mark.parametrize(("role", "status"), role_cases(
    {"lead": 201, "labeler": 403, "reviewer": 403, "engineer": 201, "outsider": 404, "anonymous": ANON}))
def test_the_api_makes_a_policy_of_a_variant_for_leads_and_engineers(client_as, lab_run, role, status):
    response = client_as(role).post(f"{URL}{lab_run.pk}/adopt/", {"variant": "2-shot", "name": "two shots"},
                                    format="json")
    assert response.status_code == status
    if status == 201:
        assert response.json()["name"] == "two shots" and response.json()["parent"] == lab_run.policy_id
        assert Policy.objects.get(name="two shots").prompt_template_kind == "few_shot"
    else:
        assert not Policy.objects.filter(name="two shots").exists()


def test_the_page_makes_a_policy_of_a_variant(client, engineer, lab_run):
    client.force_login(engineer)
    response = client.post(f"/campaigns/helpful/runs/{lab_run.pk}/adopt/", {"variant": "zero-shot", "name": ""},
                           follow=True)
    assert Policy.objects.filter(name="base · zero-shot", parent=lab_run.policy).exists()
    assert "Policy base · zero-shot made from variant zero-shot" in response.content.decode()
    again = client.post(f"/campaigns/helpful/runs/{lab_run.pk}/adopt/", {"variant": "zero-shot"}, follow=True)
    assert "No policy made: name: the campaign already has a policy named" in again.content.decode()


@pytest.mark.trainer
@pytest.mark.django_db(transaction=True)
def test_a_real_prompt_lab_run_compares_its_variants(campaign, engineer, policy, referenced):
    """The job runs `python -m trainer prompt-lab` on the tiny model with the campaign's examples."""
    run = services.run_create(campaign=campaign, user=engineer, kind="prompt_lab", policy=policy,
                              config={"variants": VARIANTS, "max_new_tokens": 8})
    from asgiref.sync import async_to_sync

    assert async_to_sync(runner.run_job)(run_id=run.pk) == "succeeded"
    run.refresh_from_db()
    assert [v["name"] for v in run.summary["variants"]] == ["zero-shot", "2-shot"]
    assert run.summary["prompts"] == 2 and run.summary["with_reference"] == 1
    rows = [json.loads(line) for line in Path(run.run_dir, "answers.jsonl").read_text().splitlines()]
    two_shot = rows[0]["answers"][1]["rendered_prompt"]
    assert "Capital of Italy?" in two_shot and "An apple." in two_shot  # the campaign's examples
    assert "rougeL" in rows[0]["answers"][0] and "rougeL" not in rows[1]["answers"][0]


def test_the_start_form_takes_the_variants_as_json_and_names_a_broken_one(client, engineer, policy, referenced):
    from tests.training.run_form_support import form_fields, post_body

    client.force_login(engineer)
    shown = form_fields(client.get("/campaigns/helpful/runs/").content.decode(), "prompt_lab")
    assert json.loads(dict(shown)["config.variants"])[0] == {"name": "zero-shot", "template": "zero-shot"}
    broken = client.post("/campaigns/helpful/runs/start/", post_body(shown, config__variants='[{"name": "a"'))
    assert broken.status_code == 400 and not Run.objects.exists()
    assert 'id="run-prompt_lab-variants-error">' in broken.content.decode()
    response = client.post("/campaigns/helpful/runs/start/", post_body(shown, config__variants=json.dumps(VARIANTS)))
    assert response.status_code == 302
    assert Run.objects.get().config["variants"] == VARIANTS


def test_a_few_shot_policy_brings_its_template_only_to_kinds_whose_trainer_has_it(campaign):
    from labelhub.training import kinds

    few = Policy.objects.create(campaign=campaign, name="few", base_model="tiny", prompt_template_kind="few_shot",
                                generation_settings={"shots": 4, "temperature": 0.9})
    assert kinds.get("generate").policy_defaults(few) == {"template": "few-shot", "shots": 4, "temperature": 0.9}
    assert kinds.get("prompt_lab").policy_defaults(few)["template"] == "few-shot"
    assert "template" not in kinds.get("sft").policy_defaults(few)  # sft and dpo offer zero-shot, cot and raw
    assert "template" not in kinds.get("dpo").policy_defaults(few)
