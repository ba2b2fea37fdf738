"""X collection without the network: normalise and store replayed v2 pages, beside storage alone.

    .venv/bin/python benchmarks/bench_collect_x.py [--posts 50000] [--page 100] [--postgres URL]

Pages are built in memory from the recorded v2 bodies in ../shared/fixtures/x/v2-bodies (real
tweets with entities, references, public_metrics and includes.users), each tweet copied with a
distinct id and author, and serialised to JSON bytes as X sends them. Measured in one run:

* collect: JSON decode + `normalise_page` + the runner's `consume` (one Batch per page, one
  transaction each, with cursor, counters and source links), exactly the collector's path after
  tweepy has returned the response; target >= 20,000 posts/s;
* normalise only: JSON decode + `normalise_page`;
* storage only: `upsert_authors` + `upsert_posts` of the same pre-normalised records in the same
  page-sized transactions, into a fresh database.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import tempfile
import time
from pathlib import Path

import orjson
from pg import drop_pg, fresh_pg  # benchmarks/pg.py
from sqlalchemy import func, select

from radpulse.collection import after_batch_steps
from radpulse.collectors.runner import RunSummary, consume, start_run
from radpulse.collectors.x.client import CLIENT
from radpulse.collectors.x.normalise import normalise_page
from radpulse.collectors.x.settings import SEARCH_ENDPOINT, TWEET_FIELDS, USER_FIELDS
from radpulse.config import DatabaseSettings
from radpulse.db.engine import open_database
from radpulse.db.models import Post, Source
from radpulse.db.store import upsert_authors, upsert_posts
from radpulse.records import Batch, SourceSpec, provenance, utcnow

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "x" / "v2-bodies"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def template_tweets() -> tuple[list[dict], list[dict]]:
    """The recorded tweets and users used as templates."""
    search = json.loads((FIXTURES / "apis_searches_search_tweets_query.json").read_text())
    tweet = json.loads((FIXTURES / "models_tweet.json").read_text())
    expansions = json.loads((FIXTURES / "models_expansions.json").read_text())
    lookup = json.loads((FIXTURES / "apis_tweet_tweets_resp.json").read_text())
    tweets = search["data"] + [tweet] + lookup["data"]
    users = search["includes"]["users"] + expansions["users"] + lookup["includes"]["users"]
    # only what the collector asks for comes back (e.g. no context_annotations)
    keep_t, keep_u = {"id", "text", "edit_history_tweet_ids", *TWEET_FIELDS}, {"id", *USER_FIELDS}
    return ([{k: v for k, v in t.items() if k in keep_t} for t in tweets],
            [{k: v for k, v in u.items() if k in keep_u} for u in users])


def build_pages(n_posts: int, page_size: int, n_authors: int = 5000) -> list[bytes]:
    """`n_posts` tweets in pages of `page_size`, newest first, as JSON bytes."""
    tweets, users = template_tweets()
    pages = []
    base = 1_800_000_000_000_000_000
    for start in range(0, n_posts, page_size):
        data, page_users = [], {}
        for i in range(start, min(start + page_size, n_posts)):
            t = copy.deepcopy(tweets[i % len(tweets)])
            t["id"] = str(base - i)
            author = str(10_000 + i % n_authors)
            t["author_id"] = author
            t.setdefault("public_metrics", {"retweet_count": i % 13, "reply_count": i % 7,
                                            "like_count": i % 100, "quote_count": i % 3})
            t["conversation_id"] = t["id"]
            data.append(t)
            if author not in page_users:
                u = copy.deepcopy(users[i % len(users)])
                u["id"] = author
                u["username"] = f"rad{author}"
                page_users[author] = u
        meta = {"result_count": len(data), "newest_id": data[0]["id"], "oldest_id": data[-1]["id"]}
        if start + page_size < n_posts:
            meta["next_token"] = f"p{start + page_size}"
        pages.append(json.dumps({"data": data, "includes": {"users": list(page_users.values())},
                                 "meta": meta}).encode())
    return pages


def normalise(raw: bytes, known_authors: dict | None = None):  # type: ignore[no-untyped-def,type-arg]
    """Decode + `normalise_page`, with the run's memo of user objects read (as the collector keeps one)."""
    read_at = utcnow()
    return normalise_page(orjson.loads(raw), provenance=provenance(SEARCH_ENDPOINT, CLIENT, read_at), read_at=read_at,
                          known_authors=known_authors)


def add_source(db) -> SourceSpec:  # type: ignore[no-untyped-def]
    with db.session() as s:
        row = Source(name="x:#Radiology", platform="x", kind="hashtag", value="#Radiology", settings={},
                     created_at=utcnow())
        s.add(row)
        s.flush()
        return SourceSpec(row.name, "x", "hashtag", "#Radiology", {}, row.id)


def bench_collect(url: str, pages: list[bytes]) -> tuple[float, float]:
    """(wall, CPU) seconds for decode + normalise + consume (the collector's path), one batch per page."""
    db = open_database(url)
    spec = add_source(db)
    summary = RunSummary(source=spec.name, platform="x")
    summary.run_id = start_run(db, spec.name, spec.id, "collect")

    def batches():  # the collector's loop body without the HTTP
        known_authors: dict = {}  # type: ignore[type-arg]  # the run's memo of user objects, as the collector keeps it
        for raw in pages:
            posts, authors, bad = normalise(raw, known_authors)
            ids = [p.external_id for p in posts]
            yield Batch(posts=posts, authors=authors, quarantined=bad, cursor={"since_id": max(ids, key=int)},
                        api_units=len(posts), fetched=len(posts))

    start, cpu = time.perf_counter(), time.process_time()
    consume(db, batches(), summary, source=spec,
            after_batch=after_batch_steps(), commit_items=DatabaseSettings().commit_items)  # as `radpulse collect`
    seconds = (time.perf_counter() - start, time.process_time() - cpu)
    with db.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(Post)).scalar()
    assert stored == summary.new, (stored, summary.new)
    db.dispose()
    return seconds


def bench_storage(url: str, normalised: list[tuple]) -> tuple[float, float]:
    """(wall, CPU) seconds for upsert_authors + upsert_posts of pre-normalised records, in the
    same transactions as the collect path (whole pages, at least [database].commit_items posts)."""
    db = open_database(url)
    per_commit = max(1, DatabaseSettings().commit_items)
    groups: list[tuple[list, list]] = [([], [])]
    for posts, authors, _ in normalised:
        if len(groups[-1][0]) >= per_commit:
            groups.append(([], []))
        groups[-1][0].extend(posts)
        groups[-1][1].extend(authors)
    start, cpu = time.perf_counter(), time.process_time()
    for posts, authors in groups:
        with db.engine.begin() as conn:
            upsert_authors(conn, authors)
            upsert_posts(conn, posts)
    seconds = (time.perf_counter() - start, time.process_time() - cpu)
    db.dispose()
    return seconds




def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=50_000)
    ap.add_argument("--page", type=int, default=100, help="tweets per page (X's max_results, at most 100)")
    ap.add_argument("--postgres", default="", help=f"admin URL of a PostgreSQL server, e.g. {DEFAULT_PG}")
    args = ap.parse_args(argv)
    pages = build_pages(args.posts, args.page)
    n = args.posts

    start, cpu = time.perf_counter(), time.process_time()
    memo: dict = {}  # type: ignore[type-arg]
    normalised = [normalise(raw, memo) for raw in pages]
    t_norm, c_norm = time.perf_counter() - start, time.process_time() - cpu
    assert sum(len(p) for p, _, _ in normalised) == n

    targets = []
    pg_names = [f"radpulse_bench_x_{tag}_{os.getpid()}" for tag in ("collect", "store")]  # dropped at the end
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as cleanup:
        targets.append(("SQLite", f"sqlite:///{tmp}/collect.db", f"sqlite:///{tmp}/store.db"))
        if args.postgres:
            cleanup.callback(lambda: [drop_pg(args.postgres, name) for name in pg_names])
            targets.append(("PostgreSQL", *(fresh_pg(args.postgres, name) for name in pg_names)))
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"X v2 pages replayed from memory: {n:,} posts in {len(pages):,} pages of {args.page} "
              f"(committed {DatabaseSettings().commit_items:,} posts at a time in whole pages, as collected)")
        print("  posts/s on the wall clock; per CPU-second of this process in brackets (the database "
              "server's own CPU is not in it)")
        print(f"  normalise only (orjson decode + normalise_page)   {n / t_norm:>9,.0f}  [{n / c_norm:>9,.0f}]")
        for label, collect_url, store_url in targets:
            (t_collect, c_collect), (t_store, c_store) = bench_collect(collect_url, pages), bench_storage(store_url, normalised)
            verdict = "met" if n / t_collect >= 20_000 else "NOT met"
            print(f"  {label + ': collect (decode+normalise+store)':<50}{n / t_collect:>9,.0f}  [{n / c_collect:>9,.0f}]"
                  f"  target 20,000 {verdict}")
            print(f"  {label + ': storage only (upsert_authors+posts)':<50}{n / t_store:>9,.0f}  [{n / c_store:>9,.0f}]"
                  f"  collect/storage = {t_store / t_collect:.2f}")


if __name__ == "__main__":
    main()
