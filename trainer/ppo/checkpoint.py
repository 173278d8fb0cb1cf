"""Checkpoints of a PPO run, and finishing cleanly on SIGTERM.

A checkpoint is ``RUN_DIR/checkpoints/step-NNNNNN/``: ``state.pt`` (step, both adapters
and the value head, optimizer and LR schedule, KL controller, score statistics, the
config, and the metrics lines written so far) and ``adapter/`` (the policy adapter at
that step, loadable like the final one). It is written to a temporary folder and renamed,
so a killed process never leaves half a checkpoint.

SIGTERM (the platform's cancel button) only sets a flag: the loop finishes the step it is
in, writes a checkpoint, saves the adapter, and the run ends with status "cancelled"
(exit code 3 from the CLI). ``--resume true`` continues from the newest checkpoint.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from trainer.config import ConfigError

# Fields that may change between a run and its resumption; any other change is refused.
RESUMABLE_CHANGES = {
    "steps", "resume", "save_every", "keep_checkpoints", "progress", "threads", "device", "out", "log_samples",
}


def checkpoint_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "checkpoints"


def latest_checkpoint(run_dir: Path) -> Path | None:
    found = sorted(p for p in checkpoint_dir(run_dir).glob("step-*") if (p / "state.pt").is_file())
    return found[-1] if found else None


def save_checkpoint(run_dir: Path, step: int, state: dict[str, Any], save_adapter, keep: int) -> Path:
    """Write state.pt (+ the policy adapter through `save_adapter(folder)`), keep the newest `keep`."""
    root = checkpoint_dir(run_dir)
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step:06d}"
    tmp = root / f".step-{step:06d}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    torch.save({"step": step, **state}, tmp / "state.pt")
    save_adapter(tmp / "adapter")
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    for old in sorted(root.glob("step-*"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_checkpoint(path: Path, config: dict[str, Any]) -> dict[str, Any]:
    """The saved state, after checking that the config matches the run that wrote it."""
    state = torch.load(path / "state.pt", map_location="cpu", weights_only=False)
    changed = sorted(
        k for k in set(config) | set(state["config"])
        if k not in RESUMABLE_CHANGES and config.get(k) != state["config"].get(k)
    )
    if changed:
        raise ConfigError(
            f"cannot resume from {path}: config differs in {', '.join(changed)} "
            f"(only {', '.join(sorted(RESUMABLE_CHANGES))} may change)"
        )
    return state


class CancelFlag:
    """Set by SIGTERM; the loop reads it between steps."""

    def __init__(self) -> None:
        self.signal: int | None = None

    @property
    def requested(self) -> bool:
        return self.signal is not None

    def _handle(self, signum: int, frame: Any) -> None:
        self.signal = signum


@contextmanager
def cancel_on_sigterm() -> Iterator[CancelFlag]:
    """Turn SIGTERM into a flag while the block runs (main thread only; elsewhere a no-op)."""
    flag = CancelFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = signal.signal(signal.SIGTERM, flag._handle)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGTERM, previous)
