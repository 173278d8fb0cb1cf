"""The trainer subprocess: prepare the run folder, run ``python -m trainer <kind>``, follow
``metrics.jsonl`` and ``progress.json`` into the database (and the run's group), keep the
tail of its output (stdout and stderr, as they come), honour cancel, record the outcome.
Called by the job in ``tasks.py``; the job takes only the id.

A trainer crash is a failed run, never a dead worker: the trainer is a separate process,
and every way out of :func:`run_job` records a final state.

A trainer never outlives its worker: it leads a process group of its own (so cancel reaches
everything it started), the kernel SIGKILLs it when the worker's event-loop thread dies
(``PR_SET_PDEATHSIG`` on Linux, even for a worker killed with SIGKILL), and the trainer
itself watches its parent (``TRAINER_EXIT_WITH_PARENT=1``, which also covers the processes
of a launcher such as ``accelerate launch``). Its pid, host and start time are in the run's
row until the job has seen it end, so a later worker can kill one that slipped through
(``watchdog.trainers_reap``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import signal
import socket
import time
from pathlib import Path

import psutil
from asgiref.sync import sync_to_async
from django.conf import settings

from labelhub.campaigns import selectors as campaign_selectors
from labelhub.campaigns.selectors import passage_list, passages_retrieve, prompt_query_text
from labelhub.core.processes import dies_with_this_process
from labelhub.training import kinds, selectors, services
from labelhub.training.models import Run

logger = logging.getLogger(__name__)

TAIL_BYTES = 4096
POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 5.0
CANCEL_CHECK_SECONDS = 1.0
MAX_EXAMPLES = 64  # the most shots a trainer config takes
CONFIG_FILE = "trainer-config.json"  # ours; the trainer writes the resolved config.json itself


class LaunchError(Exception):
    """The trainer command cannot start the processes a run asks for; the message says why."""


def trainer_command(processes: int = 1) -> list[str]:
    """How the trainer is started (``LABELHUB_TRAINER_COMMAND``). A run that needs several GPUs
    gets one process per GPU: ``python -m trainer`` becomes ``python -m accelerate.commands.launch
    --num_processes N -m trainer``, and a command that is ``accelerate launch …`` already gets
    ``--num_processes N`` after ``launch``."""
    command = list(settings.LABELHUB_TRAINER_COMMAND)
    if processes <= 1:
        return command
    if "launch" in command:
        at = command.index("launch") + 1
        return [*command[:at], "--num_processes", str(processes), *command[at:]]
    if command[1:] == ["-m", "trainer"]:
        return [command[0], "-m", "accelerate.commands.launch", "--num_processes", str(processes), "-m", "trainer"]
    raise LaunchError(f"the run needs {processes} GPUs, and LABELHUB_TRAINER_COMMAND ({' '.join(command)}) is neither "
                      "'python -m trainer' nor 'accelerate launch … -m trainer': it cannot start one process per GPU")


def cancel_grace_seconds() -> float:
    """How long a SIGTERM'd trainer may take (PPO finishes its step and saves) before SIGKILL."""
    return float(settings.LABELHUB_RUN_CANCEL_GRACE_SECONDS)


def trainer_env() -> dict[str, str]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = int(settings.LABELHUB_TRAINER_THREADS) or max(1, min(cores // 2, 8))
    env = dict(os.environ)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env |= {
        "HF_HUB_DISABLE_TELEMETRY": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
        "LABELHUB_MODELS_DIR": str(settings.LABELHUB_MODELS_DIR),
        "TRAINER_EXIT_WITH_PARENT": "1",
        # accelerate launch (torch's launcher) passes a cancel's SIGTERM on to the trainer processes
        # and SIGKILLs them after this many seconds: give them the grace the job gives a trainer.
        "TORCH_ELASTIC_SHUTDOWN_TIMEOUT": str(math.ceil(cancel_grace_seconds())),
    }
    return env


def process_started(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), or None when it is gone."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


# --- preparing the folder ---------------------------------------------------------------------


def prepare(run: Run) -> list[str]:
    """Write the trainer config (and the prompts file a kind needs); return the command line."""
    kind = kinds.get(run.kind)
    folder = Path(run.run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    prompts_file = None
    if split := kind.prompts and (run.prompt_split or kind.prompts):
        prompts_file = str(folder / "prompts.jsonl")
        write_prompts(run, split, prompts_file)
    corpus_file = None
    if kind.corpus:
        corpus_file = str(folder / "corpus.jsonl")
        write_corpus(run, corpus_file)
    trainer_config = run.config | kind.trainer_inputs(run, prompts_file=prompts_file, corpus_file=corpus_file)
    if kind.campaign_examples and not run.config.get("examples"):
        examples_file = folder / "examples.jsonl"
        if write_examples(run, str(examples_file)):
            trainer_config["examples"] = str(examples_file)
    config_path = folder / CONFIG_FILE
    config_path.write_text(json.dumps(trainer_config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [*trainer_command(processes=run.gpus), kind.method, "--config", str(config_path), "--out", str(folder)]


def write_prompts(run: Run, split: str, path: str) -> None:
    """The prompts file: one line per prompt of the split, with its reference answer when it has
    one (ROUGE in evaluate and the prompt lab). A retrieval-augmented policy's prompts carry the
    passages retrieval picked for them (``passages``: id, document, text; best first), which the
    trainer puts into the prompt and records with each completion."""
    prompts = run.campaign.prompts.filter(split=split).order_by("id")
    k = run.policy.retrieval_k if run.policy is not None and kinds.get(run.kind).policy else 0
    with open(path, "w", encoding="utf-8") as out:
        for prompt in prompts.iterator(chunk_size=1000):
            row = {"id": prompt.id, "prompt": prompt.messages if prompt.is_chat else prompt.text}
            if (reference := campaign_selectors.reference_of(prompt)) is not None:
                row["reference"] = reference
            if k:
                found = passages_retrieve(campaign_id=run.campaign_id, text=prompt_query_text(prompt), k=k)
                row["passages"] = [{"id": p.id, "document": p.document, "text": p.text} for p in found]
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_examples(run: Run, path: str) -> int:
    """The campaign's one/few-shot examples (train prompts with a reference answer); how many."""
    examples = campaign_selectors.reference_examples(campaign=run.campaign, limit=MAX_EXAMPLES)
    if examples:
        with open(path, "w", encoding="utf-8") as out:
            out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in examples)
    return len(examples)


def write_corpus(run: Run, path: str) -> None:
    """The corpus of a continued pre-training run: the campaign's passages, one ``text`` a line."""
    with open(path, "w", encoding="utf-8") as out:
        for text in passage_list(campaign=run.campaign).values_list("text", flat=True).iterator(chunk_size=1000):
            out.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")


def _load_for_prepare(run_id: int) -> Run:
    return Run.objects.select_related("campaign", "snapshot", "policy", "reward_model").get(pk=run_id)


# --- following the folder ---------------------------------------------------------------------


class MetricsFollower:
    """New complete lines of a growing metrics.jsonl, each parsed into a dict."""

    def __init__(self, path: Path):
        self.path, self.offset, self.partial = path, 0, b""

    def read(self, final: bool = False) -> list[dict]:
        try:
            with open(self.path, "rb") as fh:
                if os.fstat(fh.fileno()).st_size < self.offset:  # rewritten from the start
                    self.offset, self.partial = 0, b""
                fh.seek(self.offset)
                data = fh.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = b"" if final else lines.pop()
        return [row for line in lines if (row := _parse(line)) is not None]


def _parse(line: bytes) -> dict | None:
    if not line.strip():
        return None
    try:
        row = json.loads(line)
    except ValueError:
        logger.warning("skipping a metrics line that is not JSON: %r", line[:200])
        return None
    return row if isinstance(row, dict) else None


class Tail:
    """The last ``TAIL_BYTES`` of a stream, as text."""

    def __init__(self, limit: int = TAIL_BYTES):
        self.limit, self.data, self.version = limit, bytearray(), 0

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        del self.data[: max(0, len(self.data) - self.limit)]
        self.version += 1

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace").replace("\x00", "")


async def _pump(stream: asyncio.StreamReader, tails: tuple[Tail, ...], log_path: Path) -> None:
    with open(log_path, "ab") as log:
        while chunk := await stream.read(4096):
            for tail in tails:
                tail.add(chunk)
            log.write(chunk)
            log.flush()


class ProgressFollower:
    """progress.json each time the trainer rewrites it (None when it has not changed)."""

    def __init__(self, path: Path):
        self.path, self.seen = path, None

    def read(self) -> dict | None:
        try:
            stamp = self.path.stat().st_mtime_ns
            if stamp == self.seen:
                return None
            progress = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):  # not written yet, or replaced while read: next time
            return None
        self.seen = stamp
        return progress if isinstance(progress, dict) else None


def _signal(proc, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the trainer leads its own process group (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass


async def _stop(proc, grace: float) -> None:
    """SIGTERM, then SIGKILL when it is still there after ``grace`` seconds."""
    if proc.returncode is not None:
        return
    _signal(proc, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), timeout=grace)
    except TimeoutError:
        _signal(proc, signal.SIGKILL)
        await proc.wait()


def _read_summary(folder: Path) -> dict | None:
    try:
        summary = json.loads((folder / "summary.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return summary if isinstance(summary, dict) else None


# --- the job ----------------------------------------------------------------------------------


async def run_job(*, run_id: int, job_id: int | None = None, command: list[str] | None = None) -> str | None:
    """Run one queued run to its end; returns its final state (None when there was nothing to run).

    ``command`` replaces the trainer command line (tests use a stand-in script).
    """
    run = await sync_to_async(services.run_start)(run_id=run_id, job_id=job_id)
    if run is None:
        return None
    tail, stderr_tail, proc = Tail(), Tail(), None  # the output as shown; stderr alone, for the cause
    try:
        run = await sync_to_async(_load_for_prepare)(run_id)
        argv = await sync_to_async(prepare)(run)
        folder = Path(run.run_dir)
        proc = await asyncio.create_subprocess_exec(
            *(command or argv), cwd=settings.BASE_DIR, env=trainer_env(), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True,
            preexec_fn=dies_with_this_process(signal.SIGKILL),
        )
        await sync_to_async(services.run_trainer_started)(
            run_id=run_id, pid=proc.pid, host=socket.gethostname(), started=process_started(proc.pid)
        )
        pumps = [asyncio.create_task(_pump(proc.stdout, (tail,), folder / "stdout.log")),
                 asyncio.create_task(_pump(proc.stderr, (tail, stderr_tail), folder / "stderr.log"))]
        followers = (MetricsFollower(folder / "metrics.jsonl"), ProgressFollower(folder / "progress.json"))
        stopped = await _follow(run_id, proc, followers, tail)
        done, pending = await asyncio.wait(pumps, timeout=5)
        for pump in pending:  # a grandchild still holds the pipe open
            pump.cancel()
        run = await sync_to_async(services.run_finish)(
            run_id=run_id, exit_code=proc.returncode, summary=_read_summary(folder),
            error_tail=tail.text(), stderr_tail=stderr_tail.text(), stopped=stopped,
        )
        return run.state
    except asyncio.CancelledError:
        if proc is not None:
            await _stop(proc, grace=min(cancel_grace_seconds(), 10))
        await sync_to_async(services.run_interrupted)(
            run_id=run_id, error_tail=tail.text(), exit_code=proc.returncode if proc else None
        )
        raise
    except Exception as exc:
        logger.exception("the job of run %s failed", run_id)
        if proc is not None:
            await _stop(proc, grace=5)
        await sync_to_async(services.run_finish)(
            run_id=run_id, exit_code=proc.returncode if proc else None, summary=None,
            error_tail=tail.text(), stopped=f"the job failed: {type(exc).__name__}: {exc}"[:1000],
        )
        raise


async def _follow(run_id: int, proc, followers: tuple[MetricsFollower, ProgressFollower], tail: Tail) -> str | None:
    """Until the trainer exits: metrics and progress into the database, heartbeats, the output
    tail, cancel. Returns why the job stopped the trainer ("cancel", another reason), or None."""
    metrics, progress_file = followers
    stopped, term_at, killed, beat_at, checked_at, tail_seen = None, None, False, 0.0, 0.0, -1
    grace = cancel_grace_seconds()
    while True:
        try:
            await asyncio.wait_for(proc.wait(), timeout=POLL_SECONDS)
        except TimeoutError:
            pass
        exited = proc.returncode is not None
        rows, progress = metrics.read(final=exited), progress_file.read()
        now = time.monotonic()
        tail_changed = tail.version != tail_seen and now - beat_at >= 1.0
        if rows or exited or tail_changed or progress is not None or now - beat_at >= HEARTBEAT_SECONDS:
            new_tail = tail.text() if tail.version != tail_seen else None
            tail_seen = tail.version
            state, cancel = await sync_to_async(services.run_progress)(
                run_id=run_id, rows=rows, error_tail=new_tail, progress=progress)
            beat_at = checked_at = now
        elif now - checked_at >= CANCEL_CHECK_SECONDS:
            state, cancel = await sync_to_async(selectors.run_flags)(run_id=run_id)
            checked_at = now
        else:
            state, cancel = Run.State.RUNNING, False
        if stopped is None and cancel:
            stopped = "cancel"
        elif stopped is None and state != Run.State.RUNNING:
            stopped = f"stopped by the job: the run was marked {state} meanwhile"
        if exited:
            return stopped
        if stopped and term_at is None:
            _signal(proc, signal.SIGTERM)
            term_at = now
        elif term_at is not None and not killed and now - term_at > grace:
            _signal(proc, signal.SIGKILL)
            killed = True
