"""The job follows what the trainer says while it runs: its output (stdout and stderr, as
they come) is the run's log tail, progress.json becomes the run's progress ("step x of N"
with the time left), and both reach the run's WebSocket group as they change."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from labelhub.training import runner
from labelhub.training.events import run_group
from labelhub.training.models import Run

pytestmark = pytest.mark.django_db(transaction=True)

TALKING_TRAINER = """
    for step in (1, 2, 3):
        print(f"step {step}/3 loss=0.5", flush=True)
        tmp = out / ".progress.tmp"
        tmp.write_text(json.dumps({"phase": "train", "unit": "step", "done": step, "total": 3,
                                   "elapsed_s": step * 2.0, "eta_s": (3 - step) * 2.0}))
        os.replace(tmp, out / "progress.json")
        time.sleep(0.7)
    print("a warning on stderr", file=sys.stderr, flush=True)
    (out / "summary.json").write_text(json.dumps({"status": "succeeded"}))
"""


def test_the_log_tail_holds_stdout_and_stderr_and_the_progress_is_kept(make_run, stand_in):
    run = make_run(kind=Run.Kind.EVALUATE)
    assert async_to_sync(runner.run_job)(run_id=run.pk, command=stand_in(TALKING_TRAINER)(run)) == "succeeded"
    run.refresh_from_db()
    assert run.error_tail == "step 1/3 loss=0.5\nstep 2/3 loss=0.5\nstep 3/3 loss=0.5\na warning on stderr\n"
    assert (run.progress["done"], run.progress["total"]) == (3, 3)
    assert open(f"{run.run_dir}/stdout.log").read().count("loss=0.5") == 3  # the files keep both streams apart
    assert open(f"{run.run_dir}/stderr.log").read() == "a warning on stderr\n"


def test_progress_and_output_reach_the_runs_group_while_it_runs(make_run, stand_in):
    run = make_run(kind=Run.Kind.EVALUATE)
    layer = get_channel_layer()

    async def follow():
        channel = await layer.new_channel()
        await layer.group_add(run_group(run.pk), channel)
        await runner.run_job(run_id=run.pk, command=stand_in(TALKING_TRAINER)(run))
        events = []
        while True:
            try:
                events.append(await asyncio.wait_for(layer.receive(channel), timeout=0.5))
            except TimeoutError:
                return events

    events = async_to_sync(follow)()
    texts = [e["progress_text"] for e in events if e["type"] == "run.state" and e["state"] == "running"]
    assert "step 1 of 3 · about 4 s left" in texts or "step 2 of 3 · about 2 s left" in texts
    assert any("step 1/3 loss=0.5" in e["error_tail"] for e in events if e["type"] == "run.state")
    final = [e for e in events if e["type"] == "run.state"][-1]
    assert (final["state"], final["progress_text"]) == ("succeeded", "")


def test_a_failures_cause_is_the_last_line_of_stderr_even_when_stdout_comes_later(make_run, stand_in):
    command = stand_in("""
        print("ValueError: the real cause", file=sys.stderr, flush=True)
        time.sleep(0.3)
        print("step 9/10 loss=0.1", flush=True)
        sys.exit(1)
    """)
    run = make_run()
    assert async_to_sync(runner.run_job)(run_id=run.pk, command=command(run)) == "failed"
    run.refresh_from_db()
    assert run.error == "ValueError: the real cause"
    assert run.error_tail.endswith("step 9/10 loss=0.1\n")
