"""Runs that need GPUs (issue 17 point 2): a run asks for ``gpus``; its job waits in a queue
only a worker with at least that many GPUs works; the worker finds its GPUs (or is told); a run
with several GPUs starts one trainer process per GPU through accelerate."""

import asyncio
import subprocess

import pytest
from django.core.management import call_command
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from labelhub.core import accelerators
from labelhub.ops.management.commands import worker
from labelhub.training import runner, services
from labelhub.training.models import Run


def test_a_run_waits_in_the_queue_of_its_gpu_count():
    assert [accelerators.queue_for(n) for n in (0, 1, 4)] == ["training", "training-gpu-1", "training-gpu-4"]
    declared = {"training", "loop", "exports", "training-gpu-3"}
    assert accelerators.worker_queues(0, declared) == ["exports", "loop", "training"]
    assert accelerators.worker_queues(2, declared) == ["exports", "loop", "training", "training-gpu-1", "training-gpu-2"]


@pytest.mark.parametrize("visible, expected", [("0,1,2", 3), ("", 0), ("-1", 0), ("0,-1,1", 1), ("GPU-5a1b", 1)])
def test_cuda_visible_devices_says_how_many_gpus_a_worker_has(visible, expected):
    assert accelerators.discover(env={"CUDA_VISIBLE_DEVICES": visible}) == (expected, "CUDA_VISIBLE_DEVICES")


def test_without_cuda_visible_devices_nvidia_smi_lists_them():
    listing = "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)\nGPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-2)\n"

    def smi(argv, **kwargs):
        assert argv == ["/usr/bin/nvidia-smi", "-L"]
        return subprocess.CompletedProcess(argv, 0, stdout=listing)

    assert accelerators.discover(env={}, which=lambda name: "/usr/bin/nvidia-smi", run=smi) == (2, "nvidia-smi -L")
    assert accelerators.discover(env={}, which=lambda name: None) == (0, "no nvidia-smi")


def test_this_machine_has_no_gpu():
    """The build machine: no nvidia-smi, no CUDA_VISIBLE_DEVICES — a worker here takes no GPU run."""
    assert accelerators.discover(env={})[0] == 0


@pytest.mark.parametrize("command, processes, expected", [
    (["/venv/bin/python", "-m", "trainer"], 1, ["/venv/bin/python", "-m", "trainer"]),
    (["/venv/bin/python", "-m", "trainer"], 4,
     ["/venv/bin/python", "-m", "accelerate.commands.launch", "--num_processes", "4", "-m", "trainer"]),
    (["accelerate", "launch", "--config_file", "trainer/launch/zero2.yaml", "-m", "trainer"], 2,
     ["accelerate", "launch", "--num_processes", "2", "--config_file", "trainer/launch/zero2.yaml", "-m", "trainer"]),
])
def test_a_run_with_several_gpus_starts_one_trainer_process_per_gpu(settings, command, processes, expected):
    settings.LABELHUB_TRAINER_COMMAND = command
    assert runner.trainer_command(processes) == expected


def test_the_launcher_gives_the_trainer_processes_the_cancel_grace(settings):
    """torch's launcher SIGKILLs its processes this long after passing on a cancel's SIGTERM."""
    settings.LABELHUB_RUN_CANCEL_GRACE_SECONDS = 44.5
    assert runner.trainer_env()["TORCH_ELASTIC_SHUTDOWN_TIMEOUT"] == "45"


def test_a_trainer_command_that_cannot_start_several_processes_says_so(settings):
    settings.LABELHUB_TRAINER_COMMAND = ["/opt/run-trainer.sh"]
    with pytest.raises(runner.LaunchError, match="needs 2 GPUs"):
        runner.trainer_command(2)


def test_the_worker_works_the_gpu_queues_its_gpus_allow(monkeypatch, capsys):
    started = []
    monkeypatch.setattr(worker, "call_command", lambda *argv: started.append(argv))
    monkeypatch.setattr(worker.watchdog, "start", lambda: None)
    call_command("worker", "--gpus", "2")
    queues = started[-1][started[-1].index("--queues") + 1].split(",")
    assert {"training", "loop", "exports", "training-gpu-1", "training-gpu-2"} <= set(queues)
    assert "training-gpu-3" not in queues
    assert "GPUs: 2 (--gpus)" in capsys.readouterr().out
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(accelerators.shutil, "which", lambda name: None)
    call_command("worker")
    assert not [q for q in started[-1][started[-1].index("--queues") + 1].split(",") if q.startswith("training-gpu-")]


@pytest.mark.django_db(transaction=True)
def test_a_run_that_needs_gpus_waits_for_a_worker_that_has_them(campaign, engineer, snapshot, data_dir):
    run = services.run_create(campaign=campaign, user=engineer, kind="reward", snapshot=snapshot, gpus=2)
    run.refresh_from_db()
    job = ProcrastinateJob.objects.get(pk=run.job_id)
    assert (run.gpus, job.queue_name) == (2, "training-gpu-2")

    async def work(queues):  # a worker on this machine (no GPU) working every queue it may
        async with worker_app.open_async():
            await worker_app.run_worker_async(queues=queues, wait=False, install_signal_handlers=False)

    with app.replace_connector(app.connector.get_worker_connector()) as worker_app:
        asyncio.run(work(accelerators.worker_queues(0, {t.queue for t in app.tasks.values()})))
    job.refresh_from_db()
    run.refresh_from_db()
    assert (job.status, run.state) == ("todo", Run.State.QUEUED)  # still waiting for a GPU worker


@pytest.mark.django_db
def test_the_api_takes_and_bounds_gpus(client_as, snapshot, django_capture_on_commit_callbacks):
    url = "/api/campaigns/helpful/runs/"
    too_many = client_as("engineer").post(url, {"kind": "reward", "snapshot": snapshot.pk, "gpus": 17}, format="json")
    assert too_many.status_code == 400 and "gpus" in str(too_many.json())
    with django_capture_on_commit_callbacks(execute=True):
        made = client_as("engineer").post(url, {"kind": "reward", "snapshot": snapshot.pk, "gpus": 1}, format="json")
    assert made.status_code == 201 and made.json()["gpus"] == 1
    assert ProcrastinateJob.objects.get(pk=Run.objects.get(pk=made.json()["id"]).job_id).queue_name == "training-gpu-1"


@pytest.mark.django_db
def test_the_api_refuses_a_batch_that_does_not_split_over_the_gpus(client_as, snapshot):
    """Each of a run's N trainer processes takes batch_size / N of every step (docs/trainer.md)."""
    url = "/api/campaigns/helpful/runs/"
    odd = client_as("engineer").post(url, {"kind": "reward", "snapshot": snapshot.pk, "gpus": 3}, format="json")
    assert odd.status_code == 400, odd.json()
    assert odd.json()["errors"] == [{"field": "config.batch_size", "message": "8 does not divide among 3 processes: each "
                                     "process takes batch_size / 3 examples of every step; use a multiple of 3"}]
    assert not Run.objects.exists()
    even = client_as("engineer").post(url, {"kind": "reward", "snapshot": snapshot.pk, "gpus": 4}, format="json")
    assert even.status_code == 201, even.json()
