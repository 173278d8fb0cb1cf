"""Which GPUs a job worker has, and in which queue a run that needs GPUs waits.

A run asks for ``gpus`` (0: any worker; the trainer uses CUDA where the machine has it). Its
job goes to the queue ``training`` (no GPUs asked for) or ``training-gpu-<n>``. A worker
started with ``--gpus N`` (or that finds N GPUs: ``CUDA_VISIBLE_DEVICES``, else ``nvidia-smi -L``)
works ``training-gpu-1`` to ``training-gpu-N`` besides the other queues, so a run that asks
for 4 GPUs waits until a worker with at least 4 takes it, and a worker without GPUs never
does. docs/operations.md ("GPUs").
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping

TRAINING_QUEUE = "training"
GPU_QUEUE_PREFIX = "training-gpu-"
MAX_GPUS = 16


def queue_for(gpus: int) -> str:
    """The queue a run asking for ``gpus`` waits in."""
    return TRAINING_QUEUE if gpus <= 0 else f"{GPU_QUEUE_PREFIX}{gpus}"


def gpu_queues(gpus: int) -> list[str]:
    """The GPU queues a worker with ``gpus`` GPUs works: runs asking for 1 to ``gpus``."""
    return [queue_for(n) for n in range(1, min(gpus, MAX_GPUS) + 1)]


def is_gpu_queue(name: str) -> bool:
    return name.startswith(GPU_QUEUE_PREFIX)


def worker_queues(gpus: int, declared: Iterable[str]) -> list[str]:
    """Every declared queue that needs no GPU, then the GPU queues this worker can serve."""
    return sorted({q for q in declared if not is_gpu_queue(q)}) + gpu_queues(gpus)


def discover(env: Mapping[str, str] | None = None, which=shutil.which, run=subprocess.run) -> tuple[int, str]:
    """(GPUs on this machine, how that was found): ``CUDA_VISIBLE_DEVICES`` when it is set (an
    empty value or -1 hides every GPU), else the lines of ``nvidia-smi -L``, else none. No
    torch: the worker does not import the training libraries."""
    env = os.environ if env is None else env
    visible = env.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [d.strip() for d in visible.split(",") if d.strip()]
        ids = ids[:ids.index("-1")] if "-1" in ids else ids  # CUDA stops at the first invalid id
        return len(ids), "CUDA_VISIBLE_DEVICES"
    smi = which("nvidia-smi")
    if smi is None:
        return 0, "no nvidia-smi"
    try:
        listed = run([smi, "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return 0, "nvidia-smi failed"
    return sum(1 for line in listed.splitlines() if line.startswith("GPU ")), "nvidia-smi -L"
