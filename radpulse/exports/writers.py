"""Writers for exports: CSV, Parquet and JSON Lines, chunk by chunk, never a partial file.

Each writer writes to a temporary file beside `out` and renames it into place only when every
chunk has been written: an export that fails half way leaves no truncated file behind.
Parquet columns get one explicit schema, so a first chunk of all-empty values cannot fix a
column's type wrongly.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from radpulse.errors import InputError
from radpulse.export_safety import neutralise_formulas

FORMATS = ("csv", "parquet", "jsonl")
LIST_COLUMNS = {"hashtags", "links", "themes", "authors", "mesh_terms", "sources"}
INT_COLUMNS = {"reply_count", "like_count", "repost_count", "quote_count", "view_count", "score", "engagement", "id"}
BOOL_COLUMNS = {"has_media", "is_deleted", "synthetic"}
TIME_COLUMNS = {"created_at", "first_seen_at", "metrics_read_at"}
def _arrow_schema(frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    import pyarrow as pa

    fields = []
    for name in frame.columns:
        if name in LIST_COLUMNS:
            kind = pa.list_(pa.string())
        elif name in INT_COLUMNS:
            kind = pa.int64()
        elif name in BOOL_COLUMNS:
            kind = pa.bool_()
        elif name in TIME_COLUMNS:
            kind = pa.timestamp("us", tz="UTC")
        elif name == "published_date":
            kind = pa.date32()
        else:
            kind = pa.string()
        fields.append(pa.field(name, kind))
    return pa.schema(fields)


def _csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists as JSON text, and no cell a spreadsheet would run as a formula (see export_safety)."""
    out = frame.copy()
    for name in out.columns:
        if name in LIST_COLUMNS:
            out[name] = [json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v for v in out[name]]
    return neutralise_formulas(out)


def write_frames(
    frames: Iterable[pd.DataFrame], fmt: str, out: str | Path | None, *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write DataFrame chunks as `fmt` to `out` (stdout for csv/jsonl when None); rows written."""
    if fmt not in FORMATS:
        raise InputError(f"Unknown export format {fmt!r}.", hint=f"Use one of: {', '.join(FORMATS)}.")
    if fmt == "parquet" and out is None:
        raise InputError("Parquet is binary and cannot go to the terminal.", hint="Pass --out FILE.parquet.")
    try:
        return _write(frames, fmt, out, progress)
    finally:
        # a failed write must not leave the reading generator (and its database cursor) open
        close = getattr(frames, "close", None)
        if close is not None:
            close()


def _write(frames: Iterable[pd.DataFrame], fmt: str, out: str | Path | None, progress) -> int:  # type: ignore[no-untyped-def]
    if out is None:
        return _write_text(frames, fmt, sys.stdout, progress)
    target = Path(out)
    if not target.parent.exists():
        raise InputError(f"The folder {target.parent} does not exist.", hint="Create it or choose another --out.")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # an ordinary file for the user, not mkstemp's private 0600
    try:
        if fmt == "parquet":
            rows = _write_parquet(frames, tmp, progress)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                rows = _write_text(frames, fmt, handle, progress)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rows


def _write_parquet(frames: Iterable[pd.DataFrame], path: str, progress) -> int:  # type: ignore[no-untyped-def]
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer, rows = None, 0
    try:
        for frame in frames:
            if writer is None:
                schema = _arrow_schema(frame)
                writer = pq.ParquetWriter(path, schema, compression="zstd")
            writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
            rows += len(frame)
            if progress:
                progress(len(frame))
        if writer is None:  # no rows: still a valid, empty file
            pq.write_table(pa.table({}), path)
    finally:
        if writer is not None:
            writer.close()
    return rows


def _jsonl(frame: pd.DataFrame) -> str:
    """JSON Lines of a frame: missing values as null, times in ISO 8601, text unescaped (UTF-8)."""
    import orjson

    columns = {}
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_datetime64_any_dtype(col):
            columns[name] = [None if pd.isna(t) else t.isoformat() for t in col]
        elif name in LIST_COLUMNS and isinstance(col.dtype, pd.ArrowDtype):  # Arrow lists: as Python lists
            columns[name] = [v if isinstance(v, list) else None for v in col]
        else:
            columns[name] = [None if v is pd.NA or (isinstance(v, float) and v != v) else v
                             for v in col.astype(object)]
    names = list(columns)
    rows = zip(*columns.values())
    return "".join(orjson.dumps(dict(zip(names, row))).decode() + "\n" for row in rows)


def _write_text(frames: Iterable[pd.DataFrame], fmt: str, handle, progress) -> int:  # type: ignore[no-untyped-def]
    rows, first = 0, True
    for frame in frames:
        if fmt == "csv":
            _csv_frame(frame).to_csv(handle, index=False, header=first)
        elif len(frame):
            handle.write(_jsonl(frame))
        first = False
        rows += len(frame)
        if progress:
            progress(len(frame))
    return rows
