"""``manage.py worker``: the job worker (``procrastinate worker``) with LabelHub's run watch.

Beside the jobs, a thread of the worker (``labelhub.training.watchdog``) fails runs whose
worker died and kills trainers they left on this machine: at start-up, then every
``LABELHUB_RUN_WATCH_SECONDS``, whatever the jobs are doing. The worker's other options come
from procrastinate's environment variables too (``PROCRASTINATE_WORKER_QUEUES``, …).
"""

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from procrastinate.contrib.django import app

from labelhub.core import accelerators
from labelhub.training import watchdog


class Command(BaseCommand):
    help = "Run a job worker (procrastinate) that also watches runs: lost runs failed, stray trainers killed."

    def add_arguments(self, parser):
        parser.add_argument("-q", "--queues", help="Comma-separated queues to work (default: every queue this worker's "
                                                   "GPUs allow), e.g. training.")
        parser.add_argument("--gpus", type=int, help="GPUs this worker may give runs (default: found — "
                                                     "CUDA_VISIBLE_DEVICES, else nvidia-smi -L; 0 on a machine without). "
                                                     "It takes runs that need at most this many.")
        parser.add_argument("-c", "--concurrency", type=int, help="Jobs run at once (default 1).")
        parser.add_argument("-n", "--name", help="The worker's name in the logs.")
        parser.add_argument("--shutdown-graceful-timeout", type=float,
                            help="On SIGTERM, how long running jobs may take before they are aborted (default: no limit).")
        parser.add_argument("--no-watch", action="store_true",
                            help="Leave the run watch to other workers (the periodic job still sweeps once a minute).")

    def handle(self, *args, queues=None, gpus=None, concurrency=None, name=None, shutdown_graceful_timeout=None,
               no_watch=False, **options):
        if gpus is not None and not 0 <= gpus <= accelerators.MAX_GPUS:
            raise CommandError(f"--gpus must be from 0 to {accelerators.MAX_GPUS}, not {gpus}")
        found = "--gpus" if gpus is not None else None
        if gpus is None:
            gpus, found = accelerators.discover()
        queues = queues or os.environ.get("PROCRASTINATE_WORKER_QUEUES") or None
        if queues is None:
            queues = ",".join(accelerators.worker_queues(gpus, {task.queue for task in app.tasks.values()}))
        self.stdout.write(f"GPUs: {gpus} ({found}); queues: {queues}")
        argv = ["worker"]
        for flag, value in (("--queues", queues), ("--concurrency", concurrency), ("--name", name),
                            ("--shutdown-graceful-timeout", shutdown_graceful_timeout)):
            if value is not None:
                argv += [flag, str(value)]
        watch = None if no_watch else watchdog.start()
        try:
            call_command("procrastinate", *argv)
        finally:
            if watch is not None:
                watch.stop()
