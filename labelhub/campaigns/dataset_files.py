"""Rows of a Hugging Face dataset upload, read with pyarrow alone (the web tier and the job
worker never import ``datasets``): a parquet file, an Arrow file, or a ``save_to_disk``
folder sent as a zip (a ``Dataset`` — ``state.json`` naming its ``.arrow`` files — or a
``DatasetDict``, one such folder per split).

Each row is a dict with the JSONL fields (``prompt`` or ``messages``, ``split``, ``metadata``,
``completions``); :mod:`labelhub.campaigns.imports` checks it exactly as a JSONL line, the row
number standing for the line. Null cells count as absent. A ``DatasetDict``'s split folders
give rows without a ``split`` column their split: ``train`` → train, ``test``,
``validation`` or ``held_out`` → held_out.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import PurePosixPath

FORMATS = {".parquet": "parquet", ".arrow": "arrow", ".zip": "dataset"}
SPLIT_FOLDERS = {"train": "train", "test": "held_out", "validation": "held_out", "held_out": "held_out"}


class DatasetUnreadable(ValueError):
    """The file is not a dataset of that format; the message says why (for the ``file`` field)."""


def rows(data: bytes, fmt: str, *, max_bytes: int) -> Iterator[dict]:
    """The upload's rows, in order; :class:`DatasetUnreadable` when it cannot be read."""
    import pyarrow as pa  # deferred: only dataset imports need it

    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            yield from _table_rows(pq.read_table(io.BytesIO(data)), None)
        elif fmt == "arrow":
            yield from _table_rows(_arrow_table(data), None)
        else:
            yield from _folder_rows(data, max_bytes)
    except (pa.ArrowException, OSError, zipfile.BadZipFile, KeyError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetUnreadable(f"cannot be read as a {_names[fmt]}: {str(exc)[:200]}") from None


_names = {"parquet": "parquet file", "arrow": "Arrow file", "dataset": "zip of a save_to_disk folder"}


def _arrow_table(data: bytes):
    """An Arrow file in either IPC form: the stream ``save_to_disk`` writes, or the file format."""
    import pyarrow as pa

    try:
        return pa.ipc.open_stream(pa.BufferReader(data)).read_all()
    except pa.ArrowInvalid:
        return pa.ipc.open_file(pa.BufferReader(data)).read_all()


def _table_rows(table, split: str | None) -> Iterator[dict]:
    for batch in table.to_batches(max_chunksize=1000):
        for row in batch.to_pylist():
            row = {k: v for k, v in row.items() if v is not None}
            if split is not None:
                row.setdefault("split", split)
            yield _json_values(row)


def _json_values(row: dict) -> dict:
    """Arrow values as JSON would give them: timestamps, decimals and bytes as text; NaN and
    infinities are refused as in JSONL (``__invalid__`` carries the reason to the check)."""
    try:
        return json.loads(json.dumps(row, default=str, allow_nan=False))
    except ValueError:
        return {"__invalid__": "a value is NaN or infinite, which JSON cannot hold"}


def _folder_rows(data: bytes, max_bytes: int) -> Iterator[dict]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > max_bytes:
        raise DatasetUnreadable(f"unpacks to {unpacked:,} bytes, over the limit of {max_bytes:,} bytes")
    names = set(archive.namelist())
    states = sorted(PurePosixPath(n) for n in names if PurePosixPath(n).name == "state.json")
    if not states:
        raise DatasetUnreadable("holds no save_to_disk dataset (no state.json in the zip)")
    for state in states:
        folder = state.parent
        split = None
        if str(folder.parent / "dataset_dict.json") in names:  # a DatasetDict: one folder per split
            split = SPLIT_FOLDERS.get(folder.name)
            if split is None:
                raise DatasetUnreadable(f"split folder {folder.name!r} is not train, test, validation or held_out")
        files = json.loads(archive.read(str(state)))["_data_files"]
        for entry in files:
            yield from _table_rows(_arrow_table(archive.read(str(folder / entry["filename"]))), split)
