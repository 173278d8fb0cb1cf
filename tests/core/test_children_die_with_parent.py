"""A child started with ``dies_with_this_process`` gets its signal when the process that
started it dies, SIGKILL included (Linux: PR_SET_PDEATHSIG); one started without it lives on."""

import sys

import pytest

from tests.process_helpers import end, kill_hard, parent_with_child, wait_gone

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")

PARENT = """
import signal, subprocess, sys, time
from labelhub.core.processes import dies_with_this_process
preexec = dies_with_this_process(signal.SIGKILL) if {guarded} else None
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], preexec_fn=preexec)
print(child.pid, flush=True)
time.sleep(300)
"""


def test_a_guarded_child_dies_when_its_parent_is_killed():
    parent, child = parent_with_child(PARENT.format(guarded=True))
    kill_hard(parent)
    assert wait_gone(child, 10) is not None


def test_an_unguarded_child_outlives_its_killed_parent():
    parent, child = parent_with_child(PARENT.format(guarded=False))
    try:
        kill_hard(parent)
        assert wait_gone(child, 1.5) is None
    finally:
        end(child)
