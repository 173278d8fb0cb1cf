"""Runs for the training tests: a ready snapshot, policies, a reward model, held-out prompts,
runs in any state, and stand-in trainer scripts (the real trainer costs ~10 s a process)."""

import json
import sys
import textwrap

import pytest
from procrastinate.contrib.django.models import ProcrastinateJob

from labelhub.campaigns.models import Policy, Prompt, content_hash
from labelhub.feedback.models import Snapshot
from labelhub.training import services
from labelhub.training.models import RewardModel, Run

ANON = 401
ROLES = ["lead", "labeler", "reviewer", "engineer", "outsider", "anonymous"]


def loop_steps(**filters) -> list[ProcrastinateJob]:
    """The loop-step jobs of this test's runs, oldest first. (The job table is not emptied
    between transactional tests: rows of earlier tests name runs that are gone.)"""
    jobs = ProcrastinateJob.objects.filter(task_name=services.LOOP_STEP_JOB, **filters).order_by("id")
    runs = set(Run.objects.values_list("id", flat=True))
    return [job for job in jobs if job.args.get("run_id") in runs]


def loop_steps_queued() -> list[int]:
    """The run ids of this test's loop steps waiting in the job table, oldest first."""
    return [job.args["run_id"] for job in loop_steps(status="todo")]


def role_cases(expected: dict[str, int]):
    assert set(expected) == set(ROLES), f"give a status for every role: {sorted(set(ROLES) - set(expected))}"
    return [(role, expected[role]) for role in ROLES]


READ = role_cases({"lead": 200, "labeler": 403, "reviewer": 200, "engineer": 200, "outsider": 404, "anonymous": ANON})


def write_cases(ok):
    return role_cases({"lead": ok, "labeler": 403, "reviewer": 403, "engineer": ok, "outsider": 404, "anonymous": ANON})


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LABELHUB_DATA_DIR = tmp_path / "data"
    return settings.LABELHUB_DATA_DIR


@pytest.fixture
def client_as(users_by_role, api_as):
    return lambda role: api_as(users_by_role.get(role))


@pytest.fixture
def snapshot(campaign, lead, tmp_path):
    """A ready preference snapshot with a few pairs on disk (no judgments behind it)."""
    folder = tmp_path / "snap"
    folder.mkdir()
    with open(folder / "data.jsonl", "w", encoding="utf-8") as out:
        for i in range(12):
            row = {"prompt": f"Question {i}?", "chosen": " A kind and clear answer.", "rejected": " No.",
                   "group_id": f"task-{i}"}
            out.write(json.dumps(row) + "\n")
    return Snapshot.objects.create(campaign=campaign, version=1, state=Snapshot.State.READY, path=str(folder),
                                   row_count=12, judgment_count=12, created_by=lead)


@pytest.fixture
def policy(campaign):
    return Policy.objects.create(campaign=campaign, name="base", base_model="tiny",
                                 generation_settings={"temperature": 0.7, "max_new_tokens": 32})


@pytest.fixture
def reward_model(campaign, snapshot):
    return RewardModel.objects.create(campaign=campaign, name="rm-1", base_model="tiny-rm",
                                      adapter_path="/nowhere/adapter", snapshot=snapshot, held_out_accuracy=0.8)


@pytest.fixture
def prompts(campaign):
    """Two train and two held-out prompts."""
    return [
        Prompt.objects.create(campaign=campaign, text=f"prompt {i}", split=split, content_hash=content_hash(f"p{i}"))
        for i, split in enumerate(["train", "train", "held_out", "held_out"])
    ]


@pytest.fixture
def make_run(campaign, engineer, data_dir):
    """``make_run(kind=…, state=…, **fields)`` → a Run row made directly (no job queued)."""

    def make(kind=Run.Kind.REWARD, state=Run.State.QUEUED, **fields):
        run = Run.objects.create(campaign=campaign, kind=kind, state=state, created_by=engineer, **fields)
        run.run_dir = str(data_dir / "runs" / str(run.pk))
        run.save(update_fields=["run_dir"])
        return run

    return make


@pytest.fixture
def stand_in(tmp_path):
    """``stand_in(body)`` → a command running ``body`` as a Python script; ``out`` is the run folder."""

    def make(body: str, name="fake_trainer.py"):
        script = tmp_path / name
        header = "import json, os, pathlib, signal, sys, time\nout = pathlib.Path(sys.argv[1])\n"
        script.write_text(header + textwrap.dedent(body), encoding="utf-8")
        return lambda run: [sys.executable, str(script), run.run_dir]

    return make


SUCCEEDING_TRAINER = """
    with open(out / "metrics.jsonl", "w") as m:
        for step in (1, 2, 3):
            m.write(json.dumps({"step": step, "loss": 1.0 / step}) + "\\n")
            m.flush()
    (out / "adapter").mkdir(exist_ok=True)
    (out / "adapter" / "adapter_config.json").write_text("{}")
    (out / "model.json").write_text(json.dumps({"base": "tiny", "adapter": "adapter"}))
    (out / "summary.json").write_text(json.dumps({"status": "succeeded", "eval_accuracy": 0.75}))
"""


@pytest.fixture(autouse=True)
def _end_stray_connections(request):
    """Async tests reach the database from asgiref's worker thread, whose connection outlives
    the test; the session fixture ends such connections before the test database is dropped."""
    if request.node.get_closest_marker("django_db"):
        request.getfixturevalue("end_stray_connections")
