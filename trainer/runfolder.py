"""The run folder every method writes, so another process (the platform) can follow it.

    RUN_DIR/config.json     the resolved config (every field, auto values filled in)
    RUN_DIR/metrics.jsonl   one JSON object per logging step, flushed as it is written
    RUN_DIR/progress.json   how far the current phase is: done of total, elapsed and time left
    RUN_DIR/summary.json    final figures and "status": "succeeded" | "failed"
    RUN_DIR/model.json      for runs that produce a model: base, adapter and kind
    RUN_DIR/adapter/ ...    artifacts

``open_run`` is the opening every method shares (its ``run(cfg)`` is one ``with open_run(...)``
block): it checks the config (required fields, bounds, cross-field rules) before anything is
created or imported, quiets the libraries, resolves device/threads/bf16 and seeds, creates the
folder with config.json and metrics.jsonl, and on an exception records a failed summary and
the traceback (error.txt).

Under ``accelerate launch`` with several processes every rank runs the method, but only the
main process (rank 0) writes: on the others every writing method here is a no-op, ``main``
is False, and ``finish`` returns the summary without writing it. summary.json gives
``processes``, the number of processes that ran.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer import runtime
from trainer.config import ConfigError, check_config, field_error


@dataclass
class RunResult:
    """What `run(cfg)` returns: the folder and the summary written to summary.json."""

    out: Path
    summary: dict[str, Any]


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy / torch scalars
        return _jsonable(value.item())
    return str(value)


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(_jsonable(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


class RunFolder:
    def __init__(self, out: str | Path, method: str, cfg: Any, rank: int = 0, processes: int = 1):
        self.path = Path(out)
        self.method = method
        self.cfg = cfg
        self.main = rank == 0  # only the main process writes; the others' writes are no-ops
        self.processes = processes
        self.resolved: dict[str, Any] = {}
        self.started = time.time()
        self.last_progress: Progress | None = None
        self.printed_at = 0.0  # when a log line was last printed
        self._metrics = _NoFile()
        if not self.main:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        for stale in ("summary.json", "error.txt", "progress.json"):
            (self.path / stale).unlink(missing_ok=True)
        self._metrics = open(self.path / "metrics.jsonl", "w", encoding="utf-8")  # noqa: SIM115
        self.write_config()

    # -- config.json --------------------------------------------------------------------------
    def write_config(self) -> None:
        if not self.main:
            return
        data = {"method": self.method, **dataclasses.asdict(self.cfg)}
        if self.resolved:
            data["resolved"] = self.resolved
        if self.processes > 1:
            data["processes"] = self.processes
        data["versions"] = _versions()
        write_json(self.path / "config.json", data)

    def resolve(self, **values: Any) -> None:
        """Record values the run worked out (model paths, split sizes) in config.json."""
        self.resolved.update(values)
        self.write_config()

    # -- metrics.jsonl ------------------------------------------------------------------------
    def log(self, step: int, **metrics: Any) -> None:
        if not self.main:
            return
        row = {"step": int(step), **metrics, "elapsed_s": round(time.time() - self.started, 3)}
        self._metrics.write(json.dumps(_jsonable(row), ensure_ascii=False) + "\n")
        self._metrics.flush()
        if log_lines(self.cfg):
            print(_log_line(row, self.last_progress), flush=True)
            self.printed_at = time.time()

    def replay(self, lines: list[str]) -> None:
        """Write back metrics lines of an earlier run (a resumed run keeps its history)."""
        if not self.main:
            return
        for line in lines:
            self._metrics.write(line.rstrip("\n") + "\n")
        self._metrics.flush()

    # -- artifacts and summary ----------------------------------------------------------------
    def artifact(self, name: str) -> Path:
        return self.path / name

    def write_model_json(self, base: str, adapter: str | None, kind: str, **extra: Any) -> None:
        """Describe the model this run produced, so `--model RUN_DIR` loads base + adapter."""
        if not self.main:
            return
        write_json(self.path / "model.json", {"base": base, "adapter": adapter, "kind": kind, **extra})

    def finish(self, **summary: Any) -> RunResult:
        summary = {
            "status": "succeeded",
            "method": self.method,
            **summary,
            "processes": self.processes,
            "runtime_s": round(time.time() - self.started, 3),
        }
        self._metrics.close()
        if self.main:
            write_json(self.path / "summary.json", summary)
        return RunResult(self.path, _jsonable(summary))

    def fail(self, exc: BaseException) -> None:
        if not self._metrics.closed:
            self._metrics.close()
        if not self.main:
            return
        (self.path / "error.txt").write_text(
            "".join(traceback.format_exception(exc)), encoding="utf-8"
        )
        write_json(
            self.path / "summary.json",
            {
                "status": "failed",
                "method": self.method,
                "error": one_line(exc),
                "processes": self.processes,
                "runtime_s": round(time.time() - self.started, 3),
            },
        )

    # -- progress -----------------------------------------------------------------------------
    def progress(self, total: int, desc: str, unit: str = "step", initial: int = 0, bar: bool = True) -> Progress:
        """Follow a phase of ``total`` units: progress.json for the platform, the tqdm bar on a
        terminal (``bar=False`` when a library draws its own), else a line now and then."""
        self.last_progress = Progress(self, total, desc, unit, initial, bar)
        return self.last_progress


class Progress:
    """How far one phase of the run is (``update``/``set``, then ``close``).

    ``progress.json`` — ``{"phase", "unit", "done", "total", "elapsed_s", "eta_s"}``, written
    atomically at most once a second and at the end — is what the platform shows as "step x
    of N" with the time left; ``eta_s`` is the phase's pace so far applied to what is left
    (null until a unit is done). Without a progress bar (stderr is not a terminal and
    ``progress`` is not "off") it prints a line when nothing was printed for ``LINE_SECONDS``
    (a phase without metrics lines, or slow steps), so the log shows the run moving.
    """

    WRITE_SECONDS = 1.0
    LINE_SECONDS = 5.0

    def __init__(self, folder: RunFolder, total: int, desc: str, unit: str, initial: int, bar: bool):
        from tqdm.auto import tqdm

        self.folder, self.total, self.desc, self.unit = folder, int(total), desc, unit
        self.done = self.start = int(initial)
        self.started = time.time()
        self.written_at = 0.0
        self.lines = log_lines(folder.cfg)
        self.bar = tqdm(total=total, initial=initial, desc=desc, leave=False,
                        disable=not (bar and folder.main and show_progress(folder.cfg)))
        self._write(force=True)

    def update(self, n: int = 1) -> None:
        self.set(self.done + n)

    def set(self, done: int) -> None:
        self.bar.update(done - self.done)
        self.done = int(done)
        self._write(force=self.done >= self.total)

    def close(self) -> None:
        self.bar.close()
        self._write(force=True)

    def state(self) -> dict[str, Any]:
        elapsed = time.time() - self.started
        moved = self.done - self.start
        eta = elapsed / moved * max(self.total - self.done, 0) if moved > 0 else None
        return {"phase": self.desc, "unit": self.unit, "done": self.done, "total": self.total,
                "elapsed_s": round(elapsed, 3), "eta_s": round(eta, 1) if eta is not None else None}

    def _write(self, force: bool = False) -> None:
        if not self.folder.main:
            return
        now = time.time()
        if force or now - self.written_at >= self.WRITE_SECONDS:
            self.written_at = now
            write_json(self.folder.path / "progress.json", self.state())
        if self.lines and now - self.folder.printed_at >= self.LINE_SECONDS:
            self.folder.printed_at = now
            state = self.state()
            eta = f", {_duration(state['eta_s'])} left" if state["eta_s"] is not None else ""
            print(f"{self.desc}: {self.unit} {self.done} of {self.total}{eta}", flush=True)


class _NoFile:
    """metrics.jsonl on a process that does not write (not the main one)."""

    closed = False

    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _log_line(row: dict[str, Any], progress: Progress | None) -> str:
    """One metrics row as a log line: the step (of the total), then up to 8 figures (no timings)."""
    step = f"step {row['step']}"
    if progress is not None and progress.unit == "step" and progress.total > 0:
        step += f"/{progress.total}"
    figures = [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()
               if k not in ("step", "elapsed_s") and not k.startswith("timing/") and v is not None]
    return " ".join([step, *figures[:8]])


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, (ValueError, FileNotFoundError)) or type(exc).__name__ not in text:
        text = f"{type(exc).__name__}: {text}" if not _is_user_error(exc) else text
    return text[:500]


def _is_user_error(exc: BaseException) -> bool:
    from trainer.config import ConfigError
    from trainer.data import DataError

    return isinstance(exc, (ConfigError, DataError))


def log_lines(cfg: Any) -> bool:
    """Print metrics and progress as lines on stdout: no bar is drawn and they are not "off"."""
    return getattr(cfg, "progress", "auto") != "off" and not show_progress(cfg)


def show_progress(cfg: Any) -> bool:
    pref = getattr(cfg, "progress", "auto")
    if pref == "on":
        return True
    if pref == "off":
        return False
    return sys.stderr.isatty()


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": sys.version.split()[0]}
    for pkg in ("torch", "transformers", "trl", "peft", "datasets", "accelerate", "tokenizers"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


@contextmanager
def open_run(method: str, cfg: Any, generating: bool = False) -> Iterator[RunFolder]:
    """Check the config, create the run folder, apply runtime settings, and record failures in it.

    A config that does not fit raises ConfigError before the folder exists or a training
    library is imported. Auto values in `cfg` (device, threads, bf16) are resolved in place,
    so the method body and config.json see the values actually used. Under a launcher with
    several processes (``trainer.distributed``) each rank takes its own GPU (``cuda:<local
    rank>``) and only rank 0 writes the folder.
    """
    from trainer import distributed

    check_config(cfg)
    if method in distributed.SHARDED_METHODS:
        distributed.check_divisible(cfg, distributed.launched_size())
    runtime.quiet_libraries()
    world = distributed.world()
    device = runtime.pick_device(cfg.device)
    if world.several and device == "cuda":
        device = world.device
    if problems := runtime.hardware_problems(cfg, device):
        raise ConfigError.combine([field_error(name, why) for name, why in problems])
    threads = runtime.pick_threads(cfg.threads, device, generating=generating)
    changes: dict[str, Any] = {"device": device, "threads": threads}
    if hasattr(cfg, "bf16"):
        changes["bf16"] = "true" if runtime.pick_bf16(cfg.bf16, device) else "false"
    for key, value in changes.items():
        setattr(cfg, key, value)
    runtime.set_threads(threads)
    runtime.seed_everything(cfg.seed)
    shared = method in distributed.SHARDED_METHODS  # the others run on rank 0 alone (trainer.cli)
    folder = RunFolder(cfg.out, method, cfg, rank=world.rank if shared else 0, processes=world.size if shared else 1)
    try:
        yield folder
    except BaseException as exc:
        folder.fail(exc)
        raise
