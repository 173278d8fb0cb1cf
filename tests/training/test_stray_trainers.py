"""A trainer never outlives its run: the job records its process (pid, host, start time) while
it follows it; a worker's watch kills one whose run is over (its job's worker died) and makes
the folder say the run's state; a reused pid is never taken for it."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from asgiref.sync import async_to_sync
from procrastinate.contrib.django.models import ProcrastinateJob

from labelhub.training import runner, watchdog
from labelhub.training.models import Run
from tests.training.conftest import SUCCEEDING_TRAINER
from tests.training.test_lost_runs import ago, job, running

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sleeper():
    """A process standing in for a trainer: it leads a process group of its own, as the job starts it."""
    procs = []

    def start():
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def recorded(run: Run, proc, started=None) -> Run:
    started = psutil.Process(proc.pid).create_time() if started is None else started
    Run.objects.filter(pk=run.pk).update(trainer_pid=proc.pid, trainer_host=socket.gethostname(), trainer_started=started)
    run.refresh_from_db()
    return run


def test_the_job_records_the_trainer_while_it_runs_and_forgets_it_after(make_run, stand_in):
    run = make_run()
    trainer = "\n    (out / 'seen.json').write_text(json.dumps([os.getpid(), os.environ['TRAINER_EXIT_WITH_PARENT']]))"
    async_to_sync(runner.run_job)(run_id=run.pk, command=stand_in(trainer + SUCCEEDING_TRAINER)(run))
    run.refresh_from_db()
    pid, exit_with_parent = json.loads((Path(run.run_dir) / "seen.json").read_text())
    assert (run.trainer_pid, run.trainer_host, exit_with_parent) == (None, socket.gethostname(), "1")
    assert run.trainer_started is not None and pid > 0


def test_a_worker_kills_the_trainer_of_a_lost_run_and_settles_its_folder(make_run, sleeper):
    run = recorded(running(make_run, ago(minutes=10)), proc := sleeper())
    Path(run.run_dir).mkdir(parents=True)
    (Path(run.run_dir) / "metrics.jsonl").write_text('{"step": 1}\n')  # no summary yet: it was still training
    job_id = job(run, "doing")
    failed, killed = watchdog.sweep()
    assert (failed, killed) == ([run.pk], [run.pk])
    assert not psutil.pid_exists(proc.pid)  # killed and reaped (the reaper waits for it)
    run.refresh_from_db()
    assert (run.state, run.trainer_pid) == ("failed", None)
    assert json.loads((Path(run.run_dir) / "summary.json").read_text())["status"] == "failed"
    assert ProcrastinateJob.objects.get(pk=job_id).status == "failed"


def test_it_settles_the_folder_of_a_finished_run_whose_trainer_ended_unseen(make_run, sleeper):
    run = make_run(state=Run.State.FAILED, error="its worker stopped: no sign of life since …")
    Path(run.run_dir).mkdir(parents=True)
    (Path(run.run_dir) / "summary.json").write_text(json.dumps({"status": "succeeded"}))
    proc = sleeper()
    run = recorded(run, proc)
    proc.kill()
    proc.wait()
    assert watchdog.trainers_reap() == []
    run.refresh_from_db()
    assert run.trainer_pid is None
    assert json.loads((Path(run.run_dir) / "summary.json").read_text())["status"] == "failed"


def test_it_never_kills_a_process_that_only_got_the_trainers_pid(make_run, sleeper):
    proc = sleeper()
    run = recorded(make_run(state=Run.State.FAILED), proc, started=psutil.Process(proc.pid).create_time() - 3600)
    assert watchdog.trainers_reap() == []
    assert proc.poll() is None
    run.refresh_from_db()
    assert run.trainer_pid is None


def test_it_leaves_live_runs_and_other_machines_alone(make_run, sleeper):
    live = recorded(running(make_run, ago(seconds=2)), live_proc := sleeper())
    elsewhere = recorded(make_run(state=Run.State.FAILED), other_proc := sleeper())
    Run.objects.filter(pk=elsewhere.pk).update(trainer_host="another-machine")
    assert watchdog.sweep() == ([], [])
    assert live_proc.poll() is None and other_proc.poll() is None
    assert set(Run.objects.filter(trainer_pid__isnull=False).values_list("id", flat=True)) == {live.pk, elsewhere.pk}
