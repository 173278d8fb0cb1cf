"""A retrieval-augmented policy's generation: the prompts file carries the passages PostgreSQL
full-text search picked for each prompt (best first); the completions the run wrote are stored
with the passages their prompt held, in that order; the labeling task shows them beside the
answer; a policy without retrieval gets none."""

import json
from pathlib import Path

import pytest

from labelhub.campaigns import services as campaign_services
from labelhub.campaigns.models import UNSUPPORTED_FLAG, Completion, Policy, Prompt, content_hash
from labelhub.labeling import selectors as labeling_selectors
from labelhub.labeling.models import Task, TaskCompletion
from labelhub.training import loop, runner, services
from labelhub.training.models import Run

pytestmark = pytest.mark.django_db

ATLAS = Path(__file__).resolve().parents[2] / "fixtures" / "retrieval"


@pytest.fixture
def atlas(campaign):
    campaign_services.passages_import(campaign=campaign, filename="atlas.md", data=(ATLAS / "atlas.md").read_bytes())
    items = [json.loads(line) for line in (ATLAS / "questions.jsonl").read_text("utf-8").splitlines()]
    for item in items:
        item["prompt"] = Prompt.objects.create(campaign=campaign, text=item["question"], split="held_out",
                                               content_hash=content_hash(item["question"]))
    return items


def generate_run(make_run, policy) -> Run:
    return make_run(kind=Run.Kind.GENERATE, policy=policy, prompt_split="held_out", config={"num_samples": 1})


def prompts_file(run) -> list[dict]:
    runner.prepare(run)
    return [json.loads(line) for line in (Path(run.run_dir) / "prompts.jsonl").read_text("utf-8").splitlines()]


def test_its_prompts_file_carries_the_retrieved_passages(campaign, atlas, make_run):
    rag = Policy.objects.create(campaign=campaign, name="tiny-rag", base_model="tiny", retrieval_k=2)
    lines = prompts_file(generate_run(make_run, rag))
    assert [line["id"] for line in lines] == [item["prompt"].id for item in atlas]
    for line, item in zip(lines, atlas, strict=True):
        assert len(line["passages"]) == 2
        assert item["answer"] in line["passages"][0]["text"] and line["passages"][0]["document"] == "atlas"


def test_a_policy_without_retrieval_gets_no_passages(campaign, atlas, make_run):
    plain = Policy.objects.create(campaign=campaign, name="tiny", base_model="tiny")
    assert all("passages" not in line for line in prompts_file(generate_run(make_run, plain)))


def test_its_completions_keep_the_passages_they_were_given_and_labelers_see_them(
        campaign, atlas, make_run, django_assert_num_queries):
    rag = Policy.objects.create(campaign=campaign, name="tiny-rag", base_model="tiny", retrieval_k=2)
    run = generate_run(make_run, rag)
    lines = prompts_file(run)
    with open(Path(run.run_dir) / "completions.jsonl", "w", encoding="utf-8") as out:
        for line in lines:  # what `trainer generate` writes for a prompt with passages
            out.write(json.dumps({"id": line["id"], "completion": "It is <b>Dorganfi</b>.", "settings": {"seed": 0},
                                  "passages": [p["id"] for p in reversed(line["passages"])] + [10**9]}) + "\n")
    services.run_start(run_id=run.pk)
    services.run_finish(run_id=run.pk, exit_code=0, summary={"status": "succeeded"}, error_tail="")
    assert loop.completions_record(run=Run.objects.get(pk=run.pk)) == len(atlas)

    completion = Completion.objects.get(prompt=atlas[0]["prompt"])
    given = [p["id"] for p in reversed(lines[0]["passages"])]
    assert [cp.passage_id for cp in completion.completion_passages.all()] == given  # in the order given; unknown ids left out
    other = Completion.objects.create(prompt=atlas[0]["prompt"], policy=Policy.objects.create(
        campaign=campaign, name="tiny", base_model="tiny"), text="No idea.", content_hash=content_hash("No idea."))
    task = Task.objects.create(campaign=campaign, prompt=atlas[0]["prompt"], kind="rank", completion_key="k", overlap=1)
    TaskCompletion.objects.bulk_create([TaskCompletion(task=task, completion=c, position=i)
                                        for i, c in enumerate([completion, other])])
    task = Task.objects.prefetch_related("task_completions").get(pk=task.pk)
    with django_assert_num_queries(1):
        shown = labeling_selectors.task_for_display(task=task)
    by_id = {c["id"]: c for c in shown["completions"]}
    assert [p["id"] for p in by_id[completion.id]["passages"]] == given
    assert atlas[0]["answer"] in by_id[completion.id]["passages"][1]["text"]
    assert by_id[other.id]["passages"] == []


def test_making_a_policy_retrieve_gives_the_campaign_the_sources_flag(client_as, campaign):
    url = "/api/campaigns/helpful/policies/"
    assert client_as("engineer").post(url, {"name": "plain", "base_model": "tiny"}, format="json").status_code == 201
    campaign.refresh_from_db()
    assert UNSUPPORTED_FLAG not in campaign.flag_vocabulary
    response = client_as("engineer").post(url, {"name": "rag", "base_model": "tiny", "retrieval_k": 3}, format="json")
    assert response.status_code == 201 and response.json()["retrieval_k"] == 3
    campaign.refresh_from_db()
    assert campaign.flag_vocabulary.count(UNSUPPORTED_FLAG) == 1


def test_it_refuses_a_retrieval_k_out_of_bounds(client_as, campaign):
    response = client_as("engineer").post("/api/campaigns/helpful/policies/",
                                          {"name": "rag", "base_model": "tiny", "retrieval_k": 11}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "retrieval_k"
    assert not campaign.policies.exists()
