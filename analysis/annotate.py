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


def read_jsonl(path: Path) -> Iterator[Item]:
    """Records of a JSON Lines file (blank lines skipped)."""
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, start=1):
            if n == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Item(n, error=f"line is not valid UTF-8 (byte {exc.start})")
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Item(n, error=f"not valid JSON: {exc.msg} (column {exc.colno})")
                continue
            if not isinstance(obj, dict):
                yield Item(n, error="not a JSON object")
                continue
            rid = obj.get("id", n)
            text = obj.get("text")
            if not isinstance(text, str):
                yield Item(n, rid, error="no 'text' string in this record")
                continue
            yield Item(n, rid, text)


def read_csv(path: Path) -> Iterator[Item]:
    """Records of a CSV file with a header row containing ``text``."""
    with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))
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
