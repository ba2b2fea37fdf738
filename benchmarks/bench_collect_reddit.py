"""Normalise and store replayed Reddit listings: posts/s beside the storage-only upsert figure.

    python benchmarks/bench_collect_reddit.py [--posts 50000] [--batch 100] [--postgres URL]

Listing pages (`/r/<sub>/new` answers, 100 submissions each) are built in memory from the
recorded fixture ../shared/fixtures/reddit/TestSubredditListings.test_new.json with distinct
fullnames, serialised to JSON bytes. `RedditCollector.collect` then runs unchanged except that
its one HTTP call (`fetch_new`, done by praw in production) decodes the in-memory page instead,
so paging, cursor, normalisation and author handling are the collector's own. No network:

- normalise only: the collector's batches, discarded;
- normalise + store: the same batches written by the runner (`consume`, one transaction per
  `--batch` posts: 100 is one Reddit page per transaction, exactly as `collect` commits);
- storage only: the same batches collected beforehand, written the same way into a fresh
  database (the storage-only upsert figure).

Both databases start empty. SQLite is a temporary file; `--postgres URL` adds a run against a
fresh database created on that server.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pg import drop_pg, fresh_pg  # benchmarks/pg.py
from sqlalchemy import func, select

from radpulse.collection import after_batch_steps
from radpulse.collectors.reddit import RedditCollector
from radpulse.collectors.runner import RunSummary, consume
from radpulse.config import DatabaseSettings, default_config_data, settings_from_dict
from radpulse.db.engine import Database, open_database
from radpulse.db.models import Post, Source
from radpulse.records import Batch, SourceSpec, utcnow

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT.parent / "shared" / "fixtures" / "reddit" / "TestSubredditListings.test_new.json"


def load_children(path: Path) -> list[dict[str, Any]]:
    """The 100 recorded submissions of the fixture's /new listing."""
    for it in json.loads(path.read_text(encoding="utf-8"))["interactions"]:
        if "/new" in it["request"]["uri"]:
            return json.loads(it["response"]["body"]["string"])["data"]["children"]
    raise SystemExit(f"no /new listing in {path}")


def build_pages(children: list[dict[str, Any]], n: int, page_size: int = 100) -> list[bytes]:
    """`n` submissions with distinct fullnames as serialised Listing pages, newest first."""
    things = []
    t = 1_780_000_000.0
    for i in range(n):
        data = dict(children[i % len(children)]["data"])
        data["id"] = f"b{i:07d}"
        data["name"] = f"t3_b{i:07d}"
        data["created_utc"] = data["created"] = t - i
        data["author"] = f"user{i % 7919}"
        data["score"] = data["ups"] = i % 500
        things.append({"kind": "t3", "data": data})
    pages = []
    for start in range(0, n, page_size):
        chunk = things[start : start + page_size]
        pages.append(
            json.dumps(
                {
                    "kind": "Listing",
                    "data": {"children": chunk, "after": chunk[-1]["data"]["name"], "before": None},
                }
            ).encode()
        )
    return pages


class InMemoryRedditCollector(RedditCollector):
    """RedditCollector whose `/new` call decodes in-memory pages (no HTTP) instead of asking praw.

    Subreddit `bench<k>` holds pages k*10 .. k*10+9 (1,000 submissions, Reddit's listing window).
    """

    PAGES_PER_SUBREDDIT = 10

    def __init__(self, pages: list[bytes]) -> None:
        super().__init__(settings_from_dict(default_config_data(), environ={}))
        self.pages = pages
        self.next_page: dict[tuple[str, str | None], int] = {}

    def fetch_new(self, name: str, **params: Any) -> list[Any]:
        first = int(name.removeprefix("bench")) * self.PAGES_PER_SUBREDDIT
        i = self.next_page.get(
            (name, params.get("after")), first if params.get("after") is None else None
        )
        if i is None or i >= min(len(self.pages), first + self.PAGES_PER_SUBREDDIT):
            return []
        children = json.loads(self.pages[i])["data"]["children"]  # what praw's response.json() does
        self.next_page[(name, children[-1]["data"]["name"])] = i + 1
        return children


def subreddits(pages: list[bytes]) -> list[SourceSpec]:
    n = -(-len(pages) // InMemoryRedditCollector.PAGES_PER_SUBREDDIT)
    return [
        SourceSpec(
            f"reddit:r/bench{k}",
            "reddit",
            "subreddit",
            f"bench{k}",
            {"keywords": [], "comments": False},
        )
        for k in range(n)
    ]


def normalised(pages: list[bytes]) -> Iterator[Batch]:
    """The collector's batches (one per page): a first run over each bench subreddit."""
    collector = InMemoryRedditCollector(pages)
    for spec in subreddits(pages):
        yield from collector.collect(spec, None)


def grouped(batches: Iterator[Batch], size: int) -> Iterator[Batch]:
    """Merge consecutive page batches into batches of about `size` posts (one transaction each)."""
    acc = Batch(fetched=0)
    for b in batches:
        acc.posts += b.posts
        acc.authors += b.authors
        acc.quarantined += b.quarantined
        acc.fetched = (acc.fetched or 0) + (b.fetched or 0)
        acc.cursor = b.cursor if b.cursor is not None else acc.cursor
        if len(acc.posts) >= size:
            yield acc
            acc = Batch(fetched=0)
    if acc.posts:
        yield acc


def source(db: Database) -> SourceSpec:
    with db.session() as s:
        row = Source(
            name="reddit:r/bench",
            platform="reddit",
            kind="subreddit",
            value="bench",
            settings={},
            enabled=True,
            created_at=utcnow(),
        )
        s.add(row)
        s.flush()
        return SourceSpec(row.name, row.platform, row.kind, row.value, {}, row.id)


def store(db: Database, batches: Iterator[Batch]) -> int:
    spec = source(db)
    summary = RunSummary(source=spec.name, platform="reddit")
    consume(db, batches, summary, source=spec,
            after_batch=after_batch_steps(), commit_items=DatabaseSettings().commit_items)  # as `radpulse collect` commits
    return summary.new


def count(db: Database) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Post)).scalar_one()


def timed(fn: Any) -> tuple[float, float, Any]:
    """(wall seconds, process CPU seconds, result) of fn()."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def run(label: str, make_url: Any, pages: list[bytes], n: int, batch: int) -> None:
    def drain() -> None:
        for _ in normalised(pages):
            pass

    norm = timed(drain)
    db = open_database(make_url("collect"))
    collect = timed(lambda: store(db, grouped(normalised(pages), batch)))
    assert collect[2] == n == count(db), f"stored {count(db)} of {n}"
    db.dispose()

    pre = list(grouped(normalised(pages), batch))
    db = open_database(make_url("store"))
    storage = timed(lambda: store(db, iter(pre)))
    assert storage[2] == n == count(db)
    db.dispose()

    def fig(t: tuple[float, float, Any]) -> str:
        return f"{n / t[0]:>8,.0f}/s"

    print(
        f"{label:<10} {n:>7,} posts, {batch:>5} per transaction:  normalise only {fig(norm)}  "
        f"normalise+store {fig(collect)}  storage-only upsert {fig(storage)}"
    )
    if label == "SQLite":  # in-process database: CPU time covers all the work
        cpu = [f"{n / t[1]:>8,.0f}/s" for t in (norm, collect, storage)]
        print(
            f"{'':<10} {'(per CPU-second)':<38}  normalise only {cpu[0]}  normalise+store {cpu[1]}  "
            f"storage-only upsert {cpu[2]}"
        )






def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=50_000)
    ap.add_argument(
        "--batch",
        type=int,
        action="append",
        help="posts per transaction (repeatable; default: 100 = one Reddit page, and 5000)",
    )
    ap.add_argument("--fixture", type=Path, default=FIXTURE)
    ap.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() after start-up, so full collections skip the libraries' objects",
    )
    ap.add_argument(
        "--postgres", default="", help="admin URL of a PostgreSQL server to run against as well"
    )
    args = ap.parse_args(argv)
    batches = args.batch or [100, 5000]
    pages = build_pages(load_children(args.fixture), args.posts)
    if args.gc_freeze:
        gc.collect()
        gc.freeze()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"reddit listings: {len(pages)} pages, {sum(map(len, pages)) / 1e6:.1f} MB of JSON, "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, load average {load:.1f} on {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for batch in batches:
            run(
                "SQLite",
                lambda tag, b=batch: f"sqlite:///{tmp}/{tag}-{b}.db",
                pages,
                args.posts,
                batch,
            )
    if args.postgres:
        names: list[str] = []

        def pg(tag: str) -> str:
            names.append(f"radpulse_bench_reddit_{tag}")
            return fresh_pg(args.postgres, names[-1])

        try:
            for batch in batches:
                run("PostgreSQL", pg, pages, args.posts, batch)
        finally:
            for name in names:
                drop_pg(args.postgres, name)


if __name__ == "__main__":
    main()
