"""Reading X datasets from files into Batches: twarc2 JSONL and X account data exports.

Normalisation is the X collector's (`radpulse.collectors.x.normalise`). A line or item that is
not usable is quarantined with its text and the reason; the rest of the file is kept. A file
with nothing usable at all raises InputError naming the file, the line and what was expected.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from radpulse import safetext
from radpulse.collectors.x.normalise import (
    MissingField,
    normalise_page,
    normalise_v1_tweet,
    parse_time,
    quarantine,
)
from radpulse.errors import InputError
from radpulse.records import AuthorRecord, Batch, PostRecord, Quarantined, provenance

#: posts per committed batch
BATCH_POSTS = 1000
Progress = Callable[[int, int], None]
TWARC_EXPECTED = (
    "one twarc2 JSON object per line: a response page {\"data\": [...], \"includes\": {...}} "
    "(twarc2 search/timeline output) or a flattened tweet with \"id\", \"text\" and \"author\" "
    "(twarc2 flatten output)"
)
ARCHIVE_EXPECTED = (
    "the tweets file of an X data export: `window.YTD.tweets.part0 = [{\"tweet\": {...}}, ...]` "
    "(data/tweets.js), or the same array as plain JSON"
)
_NORMALISE_ERRORS = (MissingField, KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError)
#: characters of an unusable line kept in its quarantine entry
QUARANTINE_TEXT = 100_000


class _Accumulator:
    """Collects records into batches of about BATCH_POSTS posts."""

    def __init__(self) -> None:
        self.batch = Batch()
        self.fetched = 0
        self.good = 0  # usable items seen so far in the file

    def add(self, posts: list[PostRecord], authors: list[AuthorRecord], bad: list[Quarantined], fetched: int) -> None:
        self.batch.posts += posts
        self.batch.authors += authors
        self.batch.quarantined += bad
        self.fetched += fetched
        self.good += len(posts)

    def take(self, force: bool = False) -> Batch | None:
        if not (self.batch.posts or self.batch.quarantined):
            return None
        if not force and (len(self.batch.posts) < BATCH_POSTS or not self.good):
            return None
        batch, self.batch = self.batch, Batch()
        batch.fetched, self.fetched = self.fetched, 0
        return batch


def _twarc_provenance(meta: Mapping[str, Any] | None, default_endpoint: str) -> tuple[dict, dt.datetime | None]:
    """Provenance from twarc's `__twarc` stamp (url, version, retrieved_at) when present."""
    meta = meta if isinstance(meta, Mapping) else {}
    read_at = None
    if isinstance(meta.get("retrieved_at"), str):
        try:
            read_at = parse_time(meta["retrieved_at"])
        except ValueError:
            read_at = None
    version = meta.get("version")
    prov = provenance(meta.get("url") or default_endpoint, f"twarc/{version}" if version else "twarc2")
    prov["imported_at"] = prov["retrieved_at"]
    prov["retrieved_at"] = read_at.isoformat() if read_at else None
    return prov, read_at


def _flattened_tweet(tweet: Mapping[str, Any], prov: dict, read_at: dt.datetime | None):
    """A twarc2-flattened tweet (author and referenced tweets inlined) as a one-tweet page."""
    users: list[Any] = []
    author = tweet.get("author")
    if isinstance(author, Mapping):
        users.append(author)
        if not tweet.get("author_id") and author.get("id"):
            tweet = {**tweet, "author_id": author["id"]}
    referenced = [r for r in tweet.get("referenced_tweets") or () if isinstance(r, Mapping) and "text" in r]
    users += [r["author"] for r in referenced if isinstance(r.get("author"), Mapping)]
    page = {"data": [tweet], "includes": {"users": users, "tweets": referenced}}
    return normalise_page(page, provenance=prov, read_at=read_at)


def _parse_twarc_line(obj: Any, prov_endpoint: str) -> tuple[list, list, list, int]:
    if not isinstance(obj, dict):
        raise ValueError(f"a JSON {type(obj).__name__}, not an object")
    prov, read_at = _twarc_provenance(obj.get("__twarc"), prov_endpoint)
    if "data" in obj or (("meta" in obj or "errors" in obj) and "id" not in obj):
        data = obj.get("data") or []
        if not isinstance(data, (list, dict)):
            raise ValueError("\"data\" is neither a list nor an object")
        posts, authors, bad = normalise_page(obj, provenance=prov, read_at=read_at)
        return posts, authors, bad, len(data) if isinstance(data, list) else 1
    if "id" in obj and "text" in obj:
        posts, authors, bad = _flattened_tweet(obj, prov, read_at)
        return posts, authors, bad, 1
    raise ValueError("an object with neither \"data\" (a response page) nor \"id\"/\"text\" (a tweet)")


def _lines(fh: Any, path: Path, max_bytes: int) -> Iterator[tuple[int, bytes, int]]:
    """Numbered lines of a (possibly gzip) file, each with its length in bytes, read in bounded
    chunks: a line longer than `max_bytes` is skipped to its end without being held, and given
    as its first `QUARANTINE_TEXT` bytes with its full length. A damaged gzip stream is an InputError."""
    lineno = 0
    try:
        while True:
            line = fh.readline(max_bytes + 1)
            if not line:
                return
            lineno += 1
            size = len(line)
            if size > max_bytes and not line.endswith(b"\n"):
                head = line[:QUARANTINE_TEXT]
                del line
                while chunk := fh.readline(1 << 20):
                    size += len(chunk)
                    if chunk.endswith(b"\n"):
                        break
                yield lineno, head, size
                continue
            yield lineno, line, size
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{path} line {lineno + 1}: the gzip data is damaged ({exc}).",
                         hint="Re-copy the file, or import the lines before the damage with `zcat`.") from None


def _twarc_line_problem(line: bytes, lineno: int, size: int, max_bytes: int, endpoint: str,
                        acc: _Accumulator) -> str | None:
    """Read one twarc line into `acc`; what is wrong with it (to quarantine it), or None."""
    if size > max_bytes:
        return (f"line {lineno}: {size:,} bytes, over the limit of {max_bytes:,} "
                "(raise [limits] max_record_bytes to import it)")
    try:
        obj = orjson.loads(line)
    except ValueError as exc:
        return f"line {lineno}: not JSON ({exc})"
    try:
        posts, authors, bad, fetched = _parse_twarc_line(obj, endpoint)
    except _NORMALISE_ERRORS as exc:
        return f"line {lineno}: {exc}"
    acc.add(posts, authors, bad, fetched)
    return None


def read_twarc(path: Path, progress: Progress | None = None, max_line_bytes: int | None = None) -> Iterator[Batch]:
    """Batches from a twarc2 JSONL file (response pages and flattened tweets may be mixed).

    A line longer than `max_line_bytes` (default `[limits] max_record_bytes`) is quarantined
    unread, so memory stays bounded whatever the file holds."""
    max_line_bytes = max_line_bytes or safetext.LIMITS.max_record_bytes
    total = path.stat().st_size
    if total == 0:
        raise InputError(f"{path} is empty.", hint=f"Expected {TWARC_EXPECTED}.")
    acc = _Accumulator()
    first_bad: str | None = None
    endpoint = f"twarc2 file {path.name}"
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"  # twarc2 output is often kept as .jsonl.gz
        raw.seek(0)
        fh = gzip.GzipFile(fileobj=raw) if gzipped else raw
        for lineno, raw_line, size in _lines(fh, path, max_line_bytes):
            done = raw.tell()
            line = raw_line.strip()
            if not line:
                continue
            problem = _twarc_line_problem(line, lineno, size, max_line_bytes, endpoint, acc)
            if problem is not None:
                first_bad = first_bad or problem
                text = raw_line[:QUARANTINE_TEXT].decode("utf-8", "replace")
                acc.add([], [], [Quarantined(raw={"file": path.name, "line": lineno, "text": text},
                                             error=f"{problem}; expected {TWARC_EXPECTED}")], 1)
            batch = acc.take()
            if batch is not None:
                yield batch
                if progress:
                    progress(done, total)
    if not acc.good:
        raise InputError(
            f"{path}: no tweet could be read" + (f" ({first_bad})." if first_bad else " (no data lines)."),
            hint=f"Expected {TWARC_EXPECTED}.",
        )
    batch = acc.take(force=True)
    if batch is not None:
        yield batch
    if progress:
        progress(total, total)


_YTD = re.compile(rb"^\s*window\.YTD\.[\w.]+\s*=\s*")


def _load_ytd(path: Path, expected: str) -> Any:
    """The JSON value of an X export file (`window.YTD.<name>.part0 = ...`, or plain JSON)."""
    content = path.read_bytes()
    if not content.strip():
        raise InputError(f"{path} is empty.", hint=f"Expected {expected}.")
    match = _YTD.match(content)
    offset_lines = 0
    if match:
        offset_lines = content[: match.end()].count(b"\n")
        content = content[match.end():]
    try:
        return json.loads(content)
    except RecursionError:
        raise InputError(f"{path}: the JSON is nested too deeply to read.", hint=f"Expected {expected}.") from None
    except ValueError as exc:
        line = getattr(exc, "lineno", 0) + offset_lines
        raise InputError(
            f"{path} line {line}: not valid JSON ({getattr(exc, 'msg', exc)}).",
            hint=f"Expected {expected}.",
        ) from None


def _archive_account(path: Path) -> Mapping[str, Any] | None:
    """The export's account.js beside the tweets file, if present and readable."""
    account_file = path.with_name("account.js")
    if not account_file.is_file():
        return None
    try:
        value = _load_ytd(account_file, "account.js")
        account = value[0]["account"]
        return account if isinstance(account, Mapping) and account.get("accountId") else None
    except (InputError, LookupError, TypeError):
        return None


def read_x_archive(path: Path, progress: Progress | None = None) -> Iterator[Batch]:
    """Batches from the tweets file of an X account data export (v1.1-style tweets)."""
    items = _load_ytd(path, ARCHIVE_EXPECTED)
    if not isinstance(items, list):
        raise InputError(f"{path} line 1: a JSON {type(items).__name__}, not an array of tweets.",
                         hint=f"Expected {ARCHIVE_EXPECTED}.")
    if not items:
        raise InputError(f"{path}: the array holds no tweets.", hint=f"Expected {ARCHIVE_EXPECTED}.")
    account = _archive_account(path)
    author_id = str(account["accountId"]) if account else None
    username = account.get("username") if account else None
    prov = provenance(f"X account archive {path.name}", "x-archive")
    prov["imported_at"], prov["retrieved_at"] = prov["retrieved_at"], None
    acc = _Accumulator()
    if account:
        acc.batch.authors.append(AuthorRecord(
            platform="x", external_id=author_id, handle=username, display_name=account.get("accountDisplayName"),
            url=f"https://x.com/{username}" if username else None, raw=dict(account)))
    first_bad = None
    for number, item in enumerate(items, start=1):
        tweet = item.get("tweet", item) if isinstance(item, dict) else item
        try:
            if not isinstance(tweet, dict):
                raise ValueError(f"a JSON {type(tweet).__name__}, not a tweet object")
            post = normalise_v1_tweet(tweet, provenance=prov, read_at=None, author_id=author_id, username=username)
            acc.add([post], [], [], 1)
        except _NORMALISE_ERRORS as exc:
            q = quarantine(tweet, exc)
            q.error = f"item {number}: {q.error}"
            first_bad = first_bad or q.error
            acc.add([], [], [q], 1)
        batch = acc.take()
        if batch is not None:
            yield batch
            if progress:
                progress(number, len(items))
    if not acc.good:
        raise InputError(f"{path}: no tweet could be read ({first_bad}).", hint=f"Expected {ARCHIVE_EXPECTED}.")
    batch = acc.take(force=True)
    if batch is not None:
        yield batch
    if progress:
        progress(len(items), len(items))
