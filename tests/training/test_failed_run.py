"""A run whose trainer fails ends failed, with the cause and the stderr tail kept."""

import pytest
from asgiref.sync import async_to_sync

from labelhub.training import runner, services
from labelhub.training.models import Run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.trainer
def test_it_fails_a_bad_config_with_the_trainers_one_line_cause(campaign, engineer, snapshot):
    run = services.run_create(campaign=campaign, user=engineer, kind="reward", snapshot=snapshot)
    # run_create refuses such a config (test_run_config_bounds); one stored before it did, or
    # edited in the database, still fails cleanly with the trainer's own words
    Run.objects.filter(pk=run.pk).update(config=run.config | {"max_steps": "many"})
    assert async_to_sync(runner.run_job)(run_id=run.pk) == "failed"
    run.refresh_from_db()
    assert run.exit_code == 2
    assert run.error == "trainer reward: error: field 'max_steps': 'many' is not a valid int"
    assert run.error_tail.strip().endswith(run.error)
    assert run.produced_reward_model is None and run.finished_at is not None


def test_it_keeps_only_the_last_4_kb_of_stderr_and_its_last_line_as_the_cause(make_run, stand_in):
    command = stand_in("""
        for i in range(2000):
            print(f"warning line {i}", file=sys.stderr)
        print("RuntimeError: out of <memory> & patience", file=sys.stderr)
        sys.exit(1)
    """)
    run = make_run()
    assert async_to_sync(runner.run_job)(run_id=run.pk, command=command(run)) == "failed"
    run.refresh_from_db()
    assert (run.state, run.exit_code) == (Run.State.FAILED, 1)
    assert run.error == "RuntimeError: out of <memory> & patience"
    assert len(run.error_tail.encode()) <= runner.TAIL_BYTES
    assert run.error_tail.endswith("warning line 1999\nRuntimeError: out of <memory> & patience\n")
    assert "out of <memory>" in open(f"{run.run_dir}/stderr.log").read()


def test_it_prefers_the_summarys_error_and_fails_a_zero_exit_without_a_summary(make_run, stand_in):
    failing = stand_in("""
        (out / "summary.json").write_text(json.dumps({"status": "failed", "error": "DataError: no pairs"}))
        print("Traceback … noise", file=sys.stderr)
        sys.exit(1)
    """, name="a.py")
    silent = stand_in("pass\n", name="b.py")
    first, second = make_run(), make_run()
    async_to_sync(runner.run_job)(run_id=first.pk, command=failing(first))
    async_to_sync(runner.run_job)(run_id=second.pk, command=silent(second))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.error) == ("failed", "DataError: no pairs")
    assert (second.state, second.exit_code, second.error) == ("failed", 0, "the trainer exited with status 0 and no summary")


def test_it_fails_the_run_when_the_trainer_cannot_even_start(make_run):
    run = make_run()
    with pytest.raises(FileNotFoundError):
        async_to_sync(runner.run_job)(run_id=run.pk, command=["/no/such/trainer"])
    run.refresh_from_db()
    assert run.state == "failed"
    assert run.error.startswith("the job failed: FileNotFoundError")
