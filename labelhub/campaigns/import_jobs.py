"""Large imports as jobs: the upload is saved under the data directory and a job checks every
line, reporting its progress on the import's record, then writes everything in one
transaction — or nothing, when any line is wrong.

An upload over ``LABELHUB_IMPORT_JOB_BYTES`` is queued (:func:`import_queue`); smaller ones
are imported in the request as before. The job (``campaigns.import_prompts``,
``feedback.import_pairs``, queue ``imports``) calls :func:`import_run` with the parser and the
writer of its kind. The record goes queued → checking (``lines_checked`` of ``lines_total``)
→ writing → succeeded, or rejected with the same line-numbered errors a small upload gets in
its ``400``, or failed (a server error, logged). A job retried after its worker died starts
again from the file: nothing was written, since the writes commit only with the final state.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from labelhub.campaigns.imports import ImportRejected, RowError
from labelhub.campaigns.models import Campaign, ImportBatch
from labelhub.core.db import job_defer

logger = logging.getLogger(__name__)
State = ImportBatch.State

#: The job of each kind of import (declared in campaigns/tasks.py and feedback/tasks.py).
JOBS = {ImportBatch.Kind.PROMPTS: "campaigns.import_prompts", ImportBatch.Kind.PAIRS: "feedback.import_pairs"}
#: A running import writes its progress at most this often (seconds).
PROGRESS_SECONDS = 0.5
CONCURRENT = "another import of the same prompts ran at the same time; try again"
FAILED = "the import failed on the server (the error is logged); nothing was written"


def uploads_dir() -> Path:
    """Where queued uploads wait for their job: outside every campaign's run and snapshot folders."""
    return Path(settings.LABELHUB_DATA_DIR) / "imports"


def size_check(size: int) -> None:
    """An upload over ``LABELHUB_IMPORT_MAX_BYTES`` is refused before it is read."""
    limit = settings.LABELHUB_IMPORT_MAX_BYTES
    if size > limit:
        raise ImportRejected([RowError(None, "file", f"is {size:,} bytes, over the limit of {limit:,} bytes")])


def needs_job(size: int) -> bool:
    return size > settings.LABELHUB_IMPORT_JOB_BYTES


@transaction.atomic
def import_queue(*, campaign: Campaign, user, kind: str, filename: str, fmt: str, chunks) -> ImportBatch:
    """Record the import, save the upload (``chunks``: its bytes, piece by piece) and queue its
    job, all or nothing: the job row commits with the record."""
    batch = ImportBatch.objects.create(
        campaign=campaign, uploaded_by=user if getattr(user, "is_authenticated", False) else None, kind=kind,
        filename=filename[:255], format=fmt, state=State.QUEUED,
    )
    folder = uploads_dir() / str(batch.pk)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "upload"
        with open(path, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        batch.size, batch.upload_path = path.stat().st_size, str(path)
        batch.job_id = job_defer(JOBS[kind], batch_id=batch.pk)
        batch.save(update_fields=["size", "upload_path", "job_id"])
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return batch


def import_run(*, batch_id: int, parse: Callable[[bytes, str, Callable], Any],
               write: Callable[[ImportBatch, Any], None]) -> ImportBatch | None:
    """The job: check every line of the saved upload with ``parse(data, format, progress)``,
    then ``write(batch, parsed)`` and mark the import succeeded in one transaction. Returns the
    record (None when it is gone: its campaign was deleted)."""
    if not _claim(batch_id):
        _remove_upload(batch_id)
        return ImportBatch.objects.filter(pk=batch_id).first()
    batch = ImportBatch.objects.get(pk=batch_id)
    try:
        data = Path(batch.upload_path).read_bytes()
        parsed = parse(data, batch.format, _progress_writer(batch_id))
        ImportBatch.objects.filter(pk=batch_id).update(state=State.WRITING)
        with transaction.atomic():
            batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
            write(batch, parsed)
            batch.state, batch.finished_at, batch.lines_checked = State.SUCCEEDED, timezone.now(), batch.lines_total
            batch.upload_path = ""
            batch.save()
    except ImportRejected as rejected:
        _end(batch_id, State.REJECTED, [e.as_dict() for e in rejected.errors])
    except IntegrityError:
        _end(batch_id, State.REJECTED, [RowError(None, "file", CONCURRENT).as_dict()])
    except ImportBatch.DoesNotExist:  # deleted with its campaign meanwhile
        pass
    except Exception:
        logger.exception("import %s failed", batch_id)
        _end(batch_id, State.FAILED, [RowError(None, "file", FAILED).as_dict()])
    _remove_upload(batch_id)
    return ImportBatch.objects.filter(pk=batch_id).first()


def _claim(batch_id: int) -> bool:
    """Start (or, after a worker died mid-job, restart) an import that has not ended."""
    return bool(ImportBatch.objects.filter(pk=batch_id, state__in=[State.QUEUED, State.CHECKING, State.WRITING])
                .update(state=State.CHECKING, started_at=timezone.now(), lines_checked=0, errors=[]))


def _progress_writer(batch_id: int) -> Callable[[int, int], None]:
    """``progress(checked, total)`` → the record, at most every PROGRESS_SECONDS (and always
    the first and the last time), each update committed at once for the API and the page."""
    last = [0.0]

    def progress(checked: int, total: int) -> None:
        now = time.monotonic()
        if checked in (0, total) or now - last[0] >= PROGRESS_SECONDS:
            last[0] = now
            ImportBatch.objects.filter(pk=batch_id).update(lines_checked=checked, lines_total=total)

    return progress


def _end(batch_id: int, state: str, errors: list[dict]) -> None:
    ImportBatch.objects.filter(pk=batch_id).update(state=state, errors=errors, finished_at=timezone.now(), upload_path="")


def _remove_upload(batch_id: int) -> None:
    shutil.rmtree(uploads_dir() / str(batch_id), ignore_errors=True)
