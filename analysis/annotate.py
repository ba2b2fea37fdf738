"""`radpulse annotate`: run the annotator on a researcher's file, no database needed.

Input is JSON Lines (one object per line with ``text`` and optional ``id``) or CSV with a
``text`` column (and optional ``id``); the format comes from the extension (.jsonl/.ndjson/
.json, .csv), else from the first character. Output is JSON Lines, one record per input
record, written and flushed batch by batch so an interruption never loses finished lines.

Whole-file problems (missing, empty, no ``text`` column, not JSON Lines or CSV) raise
`InputError` before anything is written. Problems of one record (bad JSON, no text, bytes
that are not UTF-8) become that record's line ``{"id": ..., "line": n, "error": "..."}``.
Texts over `MAX_CHARS` are analysed on their beginning and marked ``"truncated": true``.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from radpulse import safetext
from radpulse.analysis.pipeline import Annotator
from radpulse.errors import InputError

JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}


@dataclass
class Item:
    """One input record: its line number and either an id and text, or an error."""

    line: int
    id: Any = None
    text: str | None = None
    error: str | None = None


@dataclass
class AnnotateSummary:
    """Counts of one `annotate_file` run."""

    annotated: int = 0
    errors: int = 0


def _has_surrogates(s: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in s)


def _sniff_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    with path.open("rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return "jsonl" if head.startswith(b"{") else "csv"


def _bounded_lines(fh: IO[bytes], max_bytes: int) -> Iterator[tuple[bytes, int]]:
    """Lines of `fh` with their length; one longer than `max_bytes` is skipped to its end without
    being held (given as b"" with its full length), so memory stays bounded on any file."""
    while line := fh.readline(max_bytes + 1):
        size = len(line)
        if size > max_bytes and not line.endswith(b"\n"):
            del line
            while chunk := fh.readline(1 << 20):
                size += len(chunk)
                if chunk.endswith(b"\n"):
                    break
            yield b"", size
        else:
            yield line, size


def _jsonl_item(n: int, raw: bytes) -> Item:
    """One JSON Lines record as an Item (with the reason when it cannot be annotated)."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Item(n, error=f"line is not valid UTF-8 (byte {exc.start})")
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return Item(n, error=f"not valid JSON: {exc.msg} (column {exc.colno})")
    except RecursionError:
        return Item(n, error="the JSON is nested too deeply to read")
    if not isinstance(obj, dict):
        return Item(n, error="not a JSON object")
    rid = obj.get("id", n)
    if not isinstance(rid, (str, int, float, bool)) and rid is not None:
        return Item(n, n, error="'id' is neither text nor a number")
    text = obj.get("text")
    if not isinstance(text, str):
        return Item(n, rid, error="no 'text' string in this record")
    return Item(n, rid, text)  # a long text is annotated on its beginning (the record says "truncated")


def read_jsonl(path: Path) -> Iterator[Item]:
    """Records of a JSON Lines file (blank lines skipped), read in bounded chunks: a line over
    `[limits] max_record_bytes` is reported as an error record, never held in memory."""
    limit = safetext.LIMITS.max_record_bytes
    with path.open("rb") as fh:
        for n, (raw, size) in enumerate(_bounded_lines(fh, limit), start=1):
            if size > limit:
                yield Item(n, error=f"line is {size:,} bytes, over the limit of {limit:,} ([limits] max_record_bytes)")
                continue
            if n == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if raw.strip():
                yield _jsonl_item(n, raw)


def read_csv(path: Path) -> Iterator[Item]:
    """Records of a CSV file with a header row containing ``text``."""
    with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        csv.field_size_limit(safetext.LIMITS.max_record_bytes)  # a larger field is an error row
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise InputError(f"{path} is empty.") from None
        except csv.Error as exc:
            raise InputError(f"{path} is not a readable CSV file: {exc}.") from None
        names = [h.strip().lower() for h in header]
        if "text" not in names:
            shown = ", ".join(repr(h) for h in header[:10]) or "none"
            raise InputError(
                f"{path} has no 'text' column (columns: {shown}).",
                hint="Name the column that holds the post text 'text', or give JSON Lines.",
            )
        ti = names.index("text")
        ii = names.index("id") if "id" in names else None
        n = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                n += 1
                yield Item(n, error=f"unreadable CSV row: {exc}")
                continue
            n += 1
            if not row:
                continue
            rid: Any = row[ii] if ii is not None and ii < len(row) else n
            if _has_surrogates(",".join(row)):
                yield Item(n, _clean_id(rid), error="row is not valid UTF-8")
                continue
            if ti >= len(row):
                yield Item(n, rid, error="row has no value in the 'text' column")
                continue
            yield Item(n, rid, row[ti])


def _clean_id(rid: Any) -> Any:
    return rid.encode("utf-8", "replace").decode("utf-8") if isinstance(rid, str) else rid


def read_items(path: Path) -> Iterator[Item]:
    """Records of `path` (JSON Lines or CSV), after checking the file as a whole."""
    if not path.exists():
        raise InputError(f"{path} does not exist.")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a file.")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty.", hint="Give a JSON Lines or CSV file of posts.")
    return read_jsonl(path) if _sniff_format(path) == "jsonl" else read_csv(path)


def check_input(path: str | Path) -> None:
    """Raise `InputError` now if the file as a whole cannot be used (before any output)."""
    items = read_items(Path(path))
    if next(items, None) is None:
        raise InputError(f"{path} has no records.", hint="Give a JSON Lines or CSV file of posts.")


def annotate_file(
    path: str | Path,
    out: IO[str],
    annotator: Annotator | None = None,
    *,
    batch_size: int = 500,
    on_batch: Callable[[int], None] | None = None,
) -> AnnotateSummary:
    """Annotate every record of `path` into `out` as JSON Lines (see the module docstring)."""
    items = read_items(Path(path))
    first = next(items, None)  # whole-file errors surface before the annotator is built
    if first is None:
        raise InputError(f"{path} has no records.", hint="Give a JSON Lines or CSV file of posts.")
    annotator = annotator or Annotator()
    summary = AnnotateSummary()
    batch: list[Item] = [first]

    def flush() -> None:
        good = [it for it in batch if it.error is None]
        done = iter(annotator.annotate([it.text for it in good], ids=[it.id for it in good]))
        lines = []
        for it in batch:
            if it.error is not None:
                summary.errors += 1
                rec = {"id": it.id, "line": it.line, "error": it.error}
            else:
                summary.annotated += 1
                rec = next(done).to_record()
            lines.append(json.dumps(rec, ensure_ascii=False))
        out.write("\n".join(lines) + "\n")
        out.flush()
        if on_batch:
            on_batch(len(batch))
        batch.clear()

    for item in items:
        batch.append(item)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return summary


def open_output(out: str | None) -> IO[str]:
    """The output stream: a file (created or replaced) or stdout."""
    if out is None or out == "-":
        return sys.stdout
    try:
        return open(out, "w", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"Cannot write {out}: {exc.strerror}.") from None
