"""Process-level settings: device, thread count, precision, seeding, library verbosity."""

from __future__ import annotations

import os
import random
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

#: Set to 1 by a caller that wants the trainer gone when it is (the platform's training job):
#: the trainer, and every process of a launcher such as ``accelerate launch`` that inherits it,
#: kills itself as soon as its parent process is no longer the one that started it.
EXIT_WITH_PARENT_ENV = "TRAINER_EXIT_WITH_PARENT"
PARENT_POLL_SECONDS = 0.5


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


def pick_device(pref: str) -> str:
    import torch

    if pref != "auto":
        return pref
    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def launcher_count(name: str) -> int:
    """A process count a launcher (accelerate, torchrun) put in the environment; 1 without one."""
    try:
        return max(1, int(os.environ.get(name, "1")))
    except ValueError:
        return 1


def local_processes() -> int:
    """Trainer processes on this machine: ``LOCAL_WORLD_SIZE`` from a launcher, else 1."""
    return launcher_count("LOCAL_WORLD_SIZE")


def pick_threads(pref: int, device: str, generating: bool = False) -> int:
    """Torch intra-op threads: explicit when > 0; else 1 for CPU generation or on <= 2 cores.

    On the 2-core build machines, generate() with 2 threads under load was 10-40x slower than
    with 1, and the tiny models train no faster on 2 threads than on 1. Under a launcher the
    cores are this process's share (the machine's divided by the processes on it).
    """
    if pref > 0:
        return pref
    cores = max(1, cpu_count() // local_processes())
    if device.startswith("cpu") and (generating or cores <= 2):
        return 1
    return max(1, min(cores // 2, 8))


@dataclass(frozen=True)
class Hardware:
    """What the machine a run starts on can do, for the options that need it."""

    cuda: bool
    bf16: bool  # a CUDA device with bf16 (compute capability 8.0 or newer)
    bitsandbytes: bool


def probe_hardware(device: str) -> Hardware:
    import importlib.util

    import torch

    cuda = device.startswith("cuda") and torch.cuda.is_available()
    return Hardware(cuda=cuda, bf16=cuda and torch.cuda.is_bf16_supported(),
                    bitsandbytes=importlib.util.find_spec("bitsandbytes") is not None)


def hardware_problems(cfg, device: str, probe=probe_hardware) -> list[tuple[str, str]]:
    """(field, why) for each option the config asks for that this machine cannot do: 4-bit
    LoRA anywhere but an NVIDIA GPU with bitsandbytes, bf16 on a GPU without it. bf16 on the
    CPU is allowed (PyTorch runs it, slowly on CPUs without bf16 instructions). The machine is
    probed (``probe(device)`` → :class:`Hardware`) only when such an option is asked for."""
    four_bit = bool(getattr(cfg, "load_in_4bit", False))
    bf16_on_gpu = str(getattr(cfg, "bf16", "auto")).lower() in ("true", "yes", "on", "1") and device.startswith("cuda")
    if not (four_bit or bf16_on_gpu):
        return []
    hw, problems = probe(device), []
    if four_bit and not hw.cuda:
        problems.append(("load_in_4bit", f"needs an NVIDIA GPU (CUDA); this run's device is {device}"))
    elif four_bit and not hw.bitsandbytes:
        problems.append(("load_in_4bit", "needs the bitsandbytes package where the trainer runs (pip install bitsandbytes)"))
    if bf16_on_gpu and not hw.bf16:
        problems.append(("bf16", "this GPU has no bf16 (compute capability below 8.0); use 'false' or 'auto'"))
    return problems


def autocast(cfg: Any):
    """bf16 autocast on the run's device when its (resolved) ``bf16`` is "true", else a context
    that changes nothing: for the forward passes of the hand-written loops (ppo)."""
    import torch

    return torch.autocast(cfg.device.split(":")[0], dtype=torch.bfloat16, enabled=getattr(cfg, "bf16", "false") == "true")


def pick_bf16(pref: str | bool, device: str) -> bool:
    """bf16 on a GPU that supports it; never on CPU unless asked for."""
    if isinstance(pref, bool):
        return pref
    pref = str(pref).lower()
    if pref in ("true", "yes", "on", "1"):
        return True
    if pref in ("false", "no", "off", "0"):
        return False
    if device.startswith("cuda"):
        import torch

        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return False


def inference_dtype(device: str):
    """Weights for generation and scoring: bf16 on a GPU that supports it, else float32."""
    import torch

    return torch.bfloat16 if pick_bf16("auto", device) else torch.float32


def set_threads(n: int) -> None:
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def quiet_libraries() -> None:
    """Keep stderr for our one-line errors and the progress bar, not library chatter."""
    import logging
    import warnings

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from transformers.utils import logging as tf_logging

    tf_logging.set_verbosity_error()
    tf_logging.disable_progress_bar()
    # datasets (~0.6 s to import) is quieted by the variables it reads when a method imports it,
    # so that generate, evaluate, score and ppo, which never do, start without it
    if "datasets" in sys.modules:
        from datasets.utils import logging as ds_logging

        ds_logging.set_verbosity_error()
        ds_logging.disable_progress_bar()
    else:
        os.environ.setdefault("DATASETS_VERBOSITY", "error")
        os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    for name in ("accelerate", "torch.distributed"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def exit_with_parent(poll: float = PARENT_POLL_SECONDS) -> threading.Thread | None:
    """When ``TRAINER_EXIT_WITH_PARENT=1``: a daemon thread that SIGKILLs this process (its
    process group too, when it leads one) once its parent has gone, so a trainer never outlives
    the job that ran it. The parent is whoever started this process (a training job, or
    ``accelerate launch`` between them). Returns the thread, or None when not asked for."""
    if os.environ.get(EXIT_WITH_PARENT_ENV) != "1":
        return None
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent and parent != 1:  # 1: orphaned before the watch began
            time.sleep(poll)
        print(f"trainer: error: its parent process {parent} is gone; stopping", file=sys.stderr, flush=True)
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpid(), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)

    thread = threading.Thread(target=watch, name="exit-with-parent", daemon=True)
    thread.start()
    return thread
