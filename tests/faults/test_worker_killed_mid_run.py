"""A worker killed with SIGKILL in the middle of a run: its trainer dies with it (no orphan
finishes the run unseen), and another worker — busy with a long run of its own, its only job
slot taken — fails the lost run with the reason within 60 s, fails its job, and makes the run
folder say "failed". The other worker's run is not disturbed."""

from __future__ import annotations

import json
import signal
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from labelhub.training import services
from labelhub.training.models import Run
from tests.faults.conftest import MANAGE, database_url, gone, labelhub_env, wait_for

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]

LOST_AFTER, WATCH = 6, 1  # seconds; the defaults (30, 10) give a bound of 40 s
DETECTION_LIMIT = 60

# A stand-in trainer: a metrics line every 0.2 s for ``steps`` steps, then a "succeeded"
# summary and 1,920 completions, as the real generate run in the report did when orphaned.
TRAINER = """
import json, os, pathlib, sys, time
out = pathlib.Path(sys.argv[sys.argv.index("--out") + 1])
config = json.loads(pathlib.Path(sys.argv[sys.argv.index("--config") + 1]).read_text())
(out / "trainer.pid").write_text(str(os.getpid()))
with open(out / "metrics.jsonl", "w") as metrics:
    for step in range(config["steps"]):
        metrics.write(json.dumps({"step": step, "loss": 1.0}) + "\\n")
        metrics.flush()
        time.sleep(0.2)
(out / "completions.jsonl").write_text("".join(json.dumps({"i": i}) + "\\n" for i in range(1920)))
(out / "adapter").mkdir()
(out / "summary.json").write_text(json.dumps({"status": "succeeded", "completions": 1920}))
"""


def queued_run(campaign, engineer, *, queue: str, steps: int) -> Run:
    run = Run.objects.create(campaign=campaign, kind=Run.Kind.REWARD, created_by=engineer, config={"steps": steps})
    run.run_dir = str(Path(services.runs_dir()) / str(run.pk))
    run.save(update_fields=["run_dir"])
    job_id = app.configure_task(services.RUN_JOB, queue=queue).defer(run_id=run.pk)
    Run.objects.filter(pk=run.pk).update(job_id=job_id)
    return run


def started_worker(processes, queue: str, env: dict, log: Path):
    with open(log, "ab") as out:
        return processes([*MANAGE, "worker", "--queues", queue], env=env, stdout=out, stderr=out)


def trainer_running(run: Run):
    """The run's trainer pid once the job has recorded it (and the trainer wrote its own)."""
    run.refresh_from_db()
    pid_file = Path(run.run_dir) / "trainer.pid"
    if run.state == Run.State.RUNNING and run.trainer_pid and pid_file.exists():
        return run.trainer_pid
    return None


def stray_trainers(run: Run) -> list[int]:
    """Live processes running the stand-in trainer for this run's folder."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if any(str(run.run_dir) == arg for arg in cmdline) and not gone(proc.info["pid"]):
            found.append(proc.info["pid"])
    return found


def test_a_killed_workers_run_is_failed_in_time_and_its_trainer_dies_with_it(
    campaign, engineer, settings, tmp_path, processes
):
    settings.LABELHUB_DATA_DIR = tmp_path / "data"
    script = tmp_path / "trainer.py"
    script.write_text(textwrap.dedent(TRAINER), encoding="utf-8")
    env = labelhub_env(
        DATABASE_URL=database_url(), LABELHUB_DATA_DIR=settings.LABELHUB_DATA_DIR,
        LABELHUB_TRAINER_COMMAND=f"{sys.executable} {script}",
        LABELHUB_RUN_LOST_AFTER_SECONDS=LOST_AFTER, LABELHUB_RUN_WATCH_SECONDS=WATCH,
    )
    doomed = queued_run(campaign, engineer, queue="fault_doomed", steps=600)  # 2 min if left alone
    busy = queued_run(campaign, engineer, queue="fault_busy", steps=1500)  # occupies the other worker
    worker_a = started_worker(processes, "fault_doomed", env, tmp_path / "worker_a.log")
    trainer_pid = wait_for(lambda: trainer_running(doomed), 90, what="the first worker's trainer starting")
    worker_b = started_worker(processes, "fault_busy", env, tmp_path / "worker_b.log")
    wait_for(lambda: trainer_running(busy), 90, what="the second worker's trainer starting")

    worker_a.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    worker_a.wait(10)
    trainer_dead_after = wait_for(lambda: gone(trainer_pid) and time.monotonic() - killed_at, 10,
                                  what="the orphaned trainer dying")
    wait_for(lambda: Run.objects.get(pk=doomed.pk).state != Run.State.RUNNING, DETECTION_LIMIT + 30,
             every=0.5, what="the lost run being failed")
    detected_after = time.monotonic() - killed_at

    doomed.refresh_from_db()
    busy.refresh_from_db()
    summary = json.loads((Path(doomed.run_dir) / "summary.json").read_text())
    figures = {
        "trainer dead after (s)": round(trainer_dead_after, 1), "run failed after (s)": round(detected_after, 1),
        "orphan trainers": len(stray_trainers(doomed)), "folder status": summary["status"],
        "completions written by the orphan": int((Path(doomed.run_dir) / "completions.jsonl").exists()) * 1920,
        "job": ProcrastinateJob.objects.get(pk=doomed.job_id).status,
    }
    print(f"\nworker SIGKILL mid-run: {figures}")
    assert detected_after < DETECTION_LIMIT
    assert doomed.state == Run.State.FAILED
    assert doomed.error.startswith("its worker stopped: no sign of life since ")
    assert figures["orphan trainers"] == 0 and figures["completions written by the orphan"] == 0
    assert summary["status"] == "failed" and summary["settled_by"] == "labelhub"
    assert figures["job"] == "failed"
    assert (busy.state, worker_b.poll()) == (Run.State.RUNNING, None)  # the busy worker's run goes on
    assert busy.heartbeat_at is not None

    # and the survivor, killed in turn, takes its own trainer with it too
    busy_trainer = busy.trainer_pid
    worker_b.send_signal(signal.SIGKILL)
    worker_b.wait(10)
    wait_for(lambda: gone(busy_trainer), 10, what="the second trainer dying with its worker")
    assert stray_trainers(busy) == []
