"""A finished run's folder says what the database says: summary.json's "status" is the run's
state, whatever the trainer wrote (the trainer's own summary is kept beside it)."""

import json
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync

from labelhub.training import runner, services
from labelhub.training.models import Run
from tests.training.conftest import SUCCEEDING_TRAINER
from tests.training.test_lost_runs import ago, running

pytestmark = pytest.mark.django_db(transaction=True)


def folder_summary(run: Run) -> dict:
    return json.loads((Path(run.run_dir) / "summary.json").read_text())


def test_it_leaves_the_summary_of_a_run_that_succeeded_as_the_trainer_wrote_it(make_run, stand_in):
    run = make_run()
    assert async_to_sync(runner.run_job)(run_id=run.pk, command=stand_in(SUCCEEDING_TRAINER)(run)) == "succeeded"
    assert folder_summary(run) == {"status": "succeeded", "eval_accuracy": 0.75}


def test_it_says_failed_when_the_trainer_succeeded_but_its_outputs_could_not_be_registered(make_run, stand_in):
    trainer = 'pathlib.Path(out / "summary.json").write_text(json.dumps({"status": "succeeded"}))\n'
    run = make_run()  # a reward run without adapter/: registering the reward model fails
    assert async_to_sync(runner.run_job)(run_id=run.pk, command=stand_in(trainer)(run)) == "failed"
    run.refresh_from_db()
    assert folder_summary(run) == {"status": "failed", "error": run.error, "settled_by": "labelhub",
                                   "trainer_summary": {"status": "succeeded"}}
    assert run.error.startswith("the trainer finished, but registering what it produced failed")


def test_it_writes_the_failure_of_a_trainer_killed_before_it_wrote_a_summary(make_run, stand_in):
    run = make_run()
    command = stand_in("os.kill(os.getpid(), signal.SIGKILL)\n")(run)
    assert async_to_sync(runner.run_job)(run_id=run.pk, command=command) == "failed"
    run.refresh_from_db()
    assert run.error == "the trainer was killed by signal 9"
    assert folder_summary(run) == {"status": "failed", "error": run.error, "settled_by": "labelhub",
                                   "trainer_summary": None}


def test_a_lost_run_whose_stray_trainer_wrote_succeeded_is_failed_in_its_folder_too(make_run):
    run = running(make_run, ago(minutes=10))
    folder = Path(run.run_dir)
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps({"status": "succeeded", "completions": 1920}))
    assert services.runs_fail_lost() == [run.pk]
    run.refresh_from_db()
    assert folder_summary(run)["status"] == "failed"
    assert folder_summary(run)["trainer_summary"] == {"status": "succeeded", "completions": 1920}
    assert folder_summary(run)["error"] == run.error


def test_it_settles_nothing_for_a_run_that_never_started(make_run):
    run = make_run(state=Run.State.CANCELLED)
    assert services.run_folder_settle(run=run) is False
    assert not Path(run.run_dir).exists()
