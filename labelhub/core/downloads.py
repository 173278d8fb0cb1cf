"""A file, or a folder as a zip, sent as a download, streamed in 64 KiB chunks under ASGI.

Django's ASGI handler reads a streaming response with a *sync* iterator (``FileResponse``)
into memory before sending its first byte (``sync_to_async(list)``, with a warning): a
snapshot of a few hundred MB would sit whole in the web process. An *async* iterator is
what Django documents for streaming under ASGI; each read here runs in a worker thread, so
the event loop never waits on the disk. (Under the sync test client Django consumes it whole,
with a warning: tests only.)
"""

from __future__ import annotations

import io
import mimetypes
import os
import zipfile
from pathlib import Path

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

CHUNK_BYTES = 64 * 1024


def file_download(path: str | os.PathLike, *, filename: str, content_type: str) -> StreamingHttpResponse:
    """``path`` as an attachment named ``filename``. A missing file raises here, before any
    byte is sent, as ``FileResponse(open(path))`` did."""
    size = os.stat(path).st_size
    response = StreamingHttpResponse(_chunks(path), content_type=content_type)
    response["Content-Length"] = str(size)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


async def _chunks(path):
    file = await sync_to_async(open, thread_sensitive=False)(path, "rb")
    try:
        read = sync_to_async(file.read, thread_sensitive=False)
        while chunk := await read(CHUNK_BYTES):
            yield chunk
    finally:
        file.close()


def path_download(path: Path, *, zip_name: str) -> StreamingHttpResponse:
    """A file as itself (its type guessed from its name), a folder as a zip named ``zip_name``."""
    if path.is_dir():
        return folder_zip_download(path, filename=zip_name)
    kind, _ = mimetypes.guess_type(path.name)
    return file_download(path, filename=path.name, content_type=kind or "application/octet-stream")


def folder_zip_download(folder: str | os.PathLike, *, filename: str) -> StreamingHttpResponse:
    """Every file under ``folder`` as one zip, written while it is sent: nothing is staged on
    disk or held whole in memory (the zip is written to a small buffer that each chunk
    empties). Files are read through their resolved path and skipped when that lies outside
    ``folder`` (a symlink out of a run folder is not a way to read the server's files).
    A missing folder raises here, before any byte is sent."""
    root = Path(folder).resolve(strict=True)
    if not root.is_dir():
        raise NotADirectoryError(str(folder))
    response = StreamingHttpResponse(_async(_zip_chunks(root)), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def folder_files(root: Path):
    """(name inside the zip, resolved path) of each regular file under ``root``, sorted; files
    that resolve outside ``root`` are left out."""
    for path in sorted(root.rglob("*")):
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            continue
        if real.is_file() and real.is_relative_to(root):
            yield path.relative_to(root).as_posix(), real


class _Buffer(io.RawIOBase):
    """A write-only stream the zip is written to; :meth:`take` empties it. Not seekable, so
    zipfile writes data descriptors instead of going back to patch headers."""

    def __init__(self):
        self._chunks: list[bytes] = []

    def writable(self):
        return True

    def write(self, data):
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self._chunks = b"".join(self._chunks), []
        return data


def _zip_chunks(root: Path):
    buffer = _Buffer()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for name, real in folder_files(root):
            with open(real, "rb") as source, archive.open(name, "w", force_zip64=True) as target:
                while chunk := source.read(CHUNK_BYTES):
                    target.write(chunk)
                    if data := buffer.take():
                        yield data
            if data := buffer.take():
                yield data
    yield buffer.take()  # the central directory


async def _async(chunks):
    """A sync generator read in a worker thread, one chunk at a time (see the module's note)."""
    step = sync_to_async(next, thread_sensitive=False)
    try:
        while (chunk := await step(chunks, None)) is not None:
            yield chunk
    finally:
        chunks.close()  # a client that left mid-way: the open file is closed now, not at collection
