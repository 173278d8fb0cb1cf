"""With TRAINER_EXIT_WITH_PARENT=1 (set by the training job) the trainer kills itself once its
parent is gone, even a parent killed with SIGKILL; without it, it is an ordinary program."""

from tests.process_helpers import end, kill_hard, parent_with_child, wait_gone

PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "from trainer.runtime import exit_with_parent; import time; "
                          "exit_with_parent(poll=0.1); print('watching', flush=True); time.sleep(300)"])
print(child.pid, flush=True)
time.sleep(300)
"""


def started(env: dict):
    """The trainer's pid, once it watches its parent (it prints to the parent's stdout)."""
    trainer = parent_with_child(PARENT, env=env)
    assert trainer[0].stdout.readline().strip() == "watching"
    return trainer


def test_the_trainer_exits_when_its_parent_is_killed():
    parent, trainer = started({"TRAINER_EXIT_WITH_PARENT": "1"})
    kill_hard(parent)
    assert wait_gone(trainer, 10) is not None


def test_the_trainer_keeps_running_when_not_asked_to():
    parent, trainer = started({"TRAINER_EXIT_WITH_PARENT": ""})
    try:
        kill_hard(parent)
        assert wait_gone(trainer, 1.5) is None
    finally:
        end(trainer)
