"""``make demo``: migrate, load the demo, then run the ASGI server and the job worker.

Ctrl-C (or SIGTERM) stops the children, then this process exits and, being the last
process attached to it, stops the embedded PostgreSQL: nothing is left running. Killed with
SIGKILL, it cannot stop them itself: the children get SIGTERM from the kernel then
(``child_start``), and the embedded database's watcher stops the server once none of them
is left (``config.embedded_db``).
"""

import os
import signal
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from labelhub.ops.processes import child_start, children_stop


class Command(BaseCommand):
    help = "Run LabelHub with demo data: ASGI server (uvicorn) and job worker, until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--web-workers", type=int, default=2,
                            help="uvicorn worker processes (default 2: one per core of a small machine).")
        parser.add_argument("--no-worker", action="store_true", help="Do not start the job worker.")
        parser.add_argument("--force", action="store_true", help="Load the demo even with DEBUG off (see load_demo).")

    def handle(self, *args, host, port, web_workers, no_worker, force=False, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        call_command("load_demo", force=force, stdout=self.stdout)
        env = os.environ.copy()
        # a few pooled connections per web process: under ASGI each request runs in a thread
        # of its own and would otherwise open a connection (docs/benchmarks.md, "Labeling queue")
        web_env = {"DATABASE_POOL_SIZE": "4", **env}
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        children = [
            child_start(
                [sys.executable, "-m", "uvicorn", "--host", host, "--port", str(port), "--workers", str(web_workers),
                 "--no-access-log", "--lifespan", "off", "labelhub.config.asgi:application"],
                cwd=settings.BASE_DIR, env=web_env,
            )
        ]
        if not no_worker:
            children.append(child_start([*manage, "worker"], cwd=settings.BASE_DIR, env=env))
        self.stdout.write(self.style.SUCCESS(f"\nLabelHub is running at http://{host}:{port}/  (Ctrl-C stops everything)\n"))
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            self.stderr.write("A child process exited; stopping the demo.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            children_stop(children)
        self.stdout.write("Stopped.")


def _interrupt(signum, frame):
    raise KeyboardInterrupt
