"""The loop's step after a run is a job: queued in the transaction that ends the run (inside a
worker too), in the job table, retried when it fails, and harmless when it runs twice. Jobs
run through a real procrastinate worker (``run_jobs``, as ``manage.py simulate`` does)."""

import json
import sys
import textwrap
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from labelhub.campaigns.models import Completion, Policy, Prompt, content_hash
from labelhub.campaigns.services import completions_add_generated
from labelhub.core.db import job_defer
from labelhub.labeling.models import Task
from labelhub.ops.loop_simulation import run_jobs
from labelhub.training import loop, services, tasks
from labelhub.training.models import LoopRound, Run
from tests.training.conftest import loop_steps, loop_steps_queued

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def versions(campaign):
    for i in range(3):
        Prompt.objects.create(campaign=campaign, text=f"q{i}", content_hash=content_hash(f"q{i}"), split="held_out")
    base = Policy.objects.create(campaign=campaign, name="base", base_model="/models/tiny")
    new = Policy.objects.create(campaign=campaign, name="base-dpo-r9", base_model="/models/tiny",
                                adapter_path="/runs/9/adapter", parent=base)
    return base, new


def held_out(campaign) -> list[int]:
    return list(campaign.prompts.filter(split="held_out").order_by("id").values_list("id", flat=True))


def output_of(run) -> Path:
    return Path(run.run_dir) / "completions.jsonl"


def write_completions(run) -> None:
    output_of(run).parent.mkdir(parents=True, exist_ok=True)
    with open(output_of(run), "w") as fh:
        for prompt_id in held_out(run.campaign):
            fh.write(json.dumps({"id": prompt_id, "completion": f"{run.policy.name} says {prompt_id}",
                                 "settings": {"seed": 0}}) + "\n")


def finish(run) -> Run:
    """What the training job does when `trainer generate` exits 0 (it wrote ``output``)."""
    services.run_start(run_id=run.pk)
    return services.run_finish(run_id=run.pk, exit_code=0, summary={"status": "succeeded", "output": str(output_of(run))},
                               error_tail="")


def make_due(job: ProcrastinateJob, **columns) -> None:
    """Bring a retried job's time forward (and set other columns), instead of waiting for it."""
    columns = {"scheduled_at": timezone.now(), **columns}
    with connection.cursor() as cursor:
        for column, value in columns.items():
            cursor.execute(f"UPDATE procrastinate_jobs SET {column} = %s WHERE id = %s", [value, job.pk])


@pytest.fixture
def one_generation(campaign, lead, versions):
    """A loop round for the new version that waits on one generate run (the base has its completions)."""
    base, new = versions
    completions_add_generated(policy=base, rows=[{"prompt_id": p, "text": f"base {p}"} for p in held_out(campaign)])
    loop_round = loop.send_to_labeling(policy=new, user=lead)
    [run] = loop_round.generation_runs.all()
    return loop_round, run


def test_it_is_queued_in_the_transaction_that_ends_the_run_even_inside_a_worker(one_generation):
    loop_round, run = one_generation
    write_completions(run)
    services.run_start(run_id=run.pk)
    # A worker (`manage.py procrastinate worker`) defers through its own pool: the step must not.
    with app.replace_connector(app.connector.get_worker_connector()):
        with pytest.raises(RuntimeError, match="roll back"), transaction.atomic():
            services.run_finish(run_id=run.pk, exit_code=0, summary={"status": "succeeded", "output": str(output_of(run))},
                                error_tail="")
            assert loop_steps_queued() == [run.pk]
            raise RuntimeError("roll back")
        assert (loop_steps(), Run.objects.get(pk=run.pk).state) == ([], "running")
        services.run_finish(run_id=run.pk, exit_code=0, summary={"status": "succeeded", "output": str(output_of(run))},
                            error_tail="")
    [job] = loop_steps()
    assert (job.queue_name, job.args, job.status, job.priority) == ("loop", {"run_id": run.pk}, "todo", tasks.LOOP_STEP_PRIORITY)
    run_jobs(queues=("loop",))
    loop_round.refresh_from_db()
    assert (loop_round.state, loop_round.tasks_created) == (LoopRound.State.LABELING, 3)
    assert ProcrastinateJob.objects.get(pk=job.pk).status == "succeeded"


FAKE_GENERATE = """
    import json, pathlib, sys
    args = sys.argv[1:]
    out, config = pathlib.Path(args[args.index("--out") + 1]), json.load(open(args[args.index("--config") + 1]))
    with open(out / "completions.jsonl", "w") as fh:
        for line in open(config["prompts"]):
            prompt = json.loads(line)
            fh.write(json.dumps({"id": prompt["id"], "completion": "an answer to " + prompt["prompt"]}) + "\\n")
    (out / "summary.json").write_text(json.dumps({"status": "succeeded", "output": str(out / "completions.jsonl")}))
"""


def test_a_worker_runs_the_generation_and_then_its_loop_step(one_generation, settings, tmp_path):
    loop_round, run = one_generation
    script = tmp_path / "fake_generate.py"
    script.write_text(textwrap.dedent(FAKE_GENERATE))
    settings.LABELHUB_TRAINER_COMMAND = [sys.executable, str(script)]
    run_jobs()  # the training queue, then the loop queue, as `manage.py simulate` does
    run.refresh_from_db()
    loop_round.refresh_from_db()
    assert (run.state, run.error, loop_round.state, loop_round.tasks_created) == ("succeeded", "", "labeling", 3)
    assert [job.status for job in loop_steps()] == ["succeeded"]
    assert ProcrastinateJob.objects.get(pk=run.job_id).status == "succeeded"


def test_a_failed_step_is_retried_and_the_run_says_so_until_it_succeeds(one_generation):
    loop_round, run = one_generation
    finish(run)  # the trainer wrote its file, but this machine does not see it yet (a slow shared disk)
    run_jobs(queues=("loop",))
    [job] = loop_steps()
    assert (job.status, job.attempts) == ("todo", 1) and job.scheduled_at > timezone.now()
    run.refresh_from_db()
    assert run.state == "succeeded"
    assert run.error.startswith("the completions are written, but the loop step failed (attempt 1 of 6; it is retried): "
                                "[Errno 2] No such file or directory")
    loop_round.refresh_from_db()
    assert loop_round.state == LoopRound.State.GENERATING

    write_completions(run)
    make_due(job)
    run_jobs(queues=("loop",))
    assert ProcrastinateJob.objects.get(pk=job.pk).status == "succeeded"
    run.refresh_from_db()
    loop_round.refresh_from_db()
    assert (run.error, loop_round.state, loop_round.tasks_created) == ("", LoopRound.State.LABELING, 3)
    assert Completion.objects.filter(policy=run.policy).count() == 3


def test_a_step_that_fails_on_its_last_attempt_stays_failed_in_the_job_table(one_generation):
    loop_round, run = one_generation
    finish(run)
    [job] = loop_steps()
    make_due(job, attempts=tasks.LOOP_STEP_RETRY.max_attempts)
    run_jobs(queues=("loop",))
    assert ProcrastinateJob.objects.get(pk=job.pk).status == "failed"
    run.refresh_from_db()
    assert "the loop step failed (attempt 6 of 6; no retry is left)" in run.error


def test_running_the_steps_twice_adds_no_round_completions_or_tasks(campaign, lead, versions):
    base, new = versions
    campaign.loop_auto = True
    campaign.save()
    dpo = Run.objects.create(campaign=campaign, kind="dpo", policy=base, produced_policy=new, state=Run.State.SUCCEEDED,
                             created_by=lead, run_dir="/tmp/unused")
    job_defer(services.LOOP_STEP_JOB, run_id=dpo.pk)
    job_defer(services.LOOP_STEP_JOB, run_id=dpo.pk)
    run_jobs(queues=("loop",))
    [loop_round] = LoopRound.objects.all()
    generations = list(loop_round.generation_runs.order_by("id"))
    assert [r.policy for r in generations] == [new, base]

    for run in generations:
        write_completions(run)
        finish(run)  # each queues its step
        job_defer(services.LOOP_STEP_JOB, run_id=run.pk)  # and once more
    run_jobs(queues=("loop",))
    for run in [dpo, *generations]:  # a third time, every one of them
        job_defer(services.LOOP_STEP_JOB, run_id=run.pk)
    run_jobs(queues=("loop",))

    assert {job.status for job in loop_steps()} == {"succeeded"} and len(loop_steps()) == 2 + 2 * 2 + 3
    loop_round.refresh_from_db()
    assert (loop_round.state, loop_round.tasks_created) == (LoopRound.State.LABELING, 3)
    assert LoopRound.objects.count() == 1 and Run.objects.filter(kind="generate").count() == 2
    assert Completion.objects.count() == 6 and Task.objects.filter(campaign=campaign).count() == 3
    assert not Run.objects.exclude(error="").exists()
