"""The run folder every method writes, so another process (the platform) can follow it.

    RUN_DIR/config.json     the resolved config (every field, auto values filled in)
    RUN_DIR/metrics.jsonl   one JSON object per logging step, flushed as it is written
    RUN_DIR/summary.json    final figures and "status": "succeeded" | "failed"
    RUN_DIR/model.json      for runs that produce a model: base, adapter and kind
    RUN_DIR/adapter/ ...    artifacts

``open_run`` is the opening every method shares (its ``run(cfg)`` is one ``with open_run(...)``
block): it checks the config (required fields, bounds, cross-field rules) before anything is
created or imported, quiets the libraries, resolves device/threads/bf16 and seeds, creates the
folder with config.json and metrics.jsonl, and on an exception records a failed summary and
the traceback (error.txt).
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
from trainer.config import check_config


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
    def __init__(self, out: str | Path, method: str, cfg: Any):
        self.path = Path(out)
        self.path.mkdir(parents=True, exist_ok=True)
        self.method = method
        self.cfg = cfg
        self.resolved: dict[str, Any] = {}
        self.started = time.time()
        for stale in ("summary.json", "error.txt"):
            (self.path / stale).unlink(missing_ok=True)
        self._metrics = open(self.path / "metrics.jsonl", "w", encoding="utf-8")  # noqa: SIM115
        self.write_config()

    # -- config.json --------------------------------------------------------------------------
    def write_config(self) -> None:
        data = {"method": self.method, **dataclasses.asdict(self.cfg)}
        if self.resolved:
            data["resolved"] = self.resolved
        data["versions"] = _versions()
        write_json(self.path / "config.json", data)

    def resolve(self, **values: Any) -> None:
        """Record values the run worked out (model paths, split sizes) in config.json."""
        self.resolved.update(values)
        self.write_config()

    # -- metrics.jsonl ------------------------------------------------------------------------
    def log(self, step: int, **metrics: Any) -> None:
        row = {"step": int(step), **metrics, "elapsed_s": round(time.time() - self.started, 3)}
        self._metrics.write(json.dumps(_jsonable(row), ensure_ascii=False) + "\n")
        self._metrics.flush()

    def replay(self, lines: list[str]) -> None:
        """Write back metrics lines of an earlier run (a resumed run keeps its history)."""
        for line in lines:
            self._metrics.write(line.rstrip("\n") + "\n")
        self._metrics.flush()

    # -- artifacts and summary ----------------------------------------------------------------
    def artifact(self, name: str) -> Path:
        return self.path / name

    def write_model_json(self, base: str, adapter: str | None, kind: str, **extra: Any) -> None:
        """Describe the model this run produced, so `--model RUN_DIR` loads base + adapter."""
        write_json(self.path / "model.json", {"base": base, "adapter": adapter, "kind": kind, **extra})

    def finish(self, **summary: Any) -> RunResult:
        summary = {
            "status": "succeeded",
            "method": self.method,
            **summary,
            "runtime_s": round(time.time() - self.started, 3),
        }
        self._metrics.close()
        write_json(self.path / "summary.json", summary)
        return RunResult(self.path, _jsonable(summary))

    def fail(self, exc: BaseException) -> None:
        if not self._metrics.closed:
            self._metrics.close()
        (self.path / "error.txt").write_text(
            "".join(traceback.format_exception(exc)), encoding="utf-8"
        )
        write_json(
            self.path / "summary.json",
            {
                "status": "failed",
                "method": self.method,
                "error": one_line(exc),
                "runtime_s": round(time.time() - self.started, 3),
            },
        )

    # -- progress -----------------------------------------------------------------------------
    def progress(self, total: int, desc: str):
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, disable=not show_progress(self.cfg), leave=False)


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, (ValueError, FileNotFoundError)) or type(exc).__name__ not in text:
        text = f"{type(exc).__name__}: {text}" if not _is_user_error(exc) else text
    return text[:500]


def _is_user_error(exc: BaseException) -> bool:
    from trainer.config import ConfigError
    from trainer.data import DataError

    return isinstance(exc, (ConfigError, DataError))


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
    so the method body and config.json see the values actually used.
    """
    check_config(cfg)
    runtime.quiet_libraries()
    device = runtime.pick_device(cfg.device)
    threads = runtime.pick_threads(cfg.threads, device, generating=generating)
    changes: dict[str, Any] = {"device": device, "threads": threads}
    if hasattr(cfg, "bf16"):
        changes["bf16"] = "true" if runtime.pick_bf16(cfg.bf16, device) else "false"
    for key, value in changes.items():
        setattr(cfg, key, value)
    runtime.set_threads(threads)
    runtime.seed_everything(cfg.seed)
    folder = RunFolder(cfg.out, method, cfg)
    try:
        yield folder
    except BaseException as exc:
        folder.fail(exc)
        raise
