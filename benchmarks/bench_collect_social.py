"""Mastodon and Bluesky collection without the network: normalise and store replayed pages.

    .venv/bin/python benchmarks/bench_collect_social.py [--posts 40000] [--postgres URL] [--gc-threshold N]

Pages are built in memory from the recorded payloads in ../shared/fixtures: Mastodon statuses
from Mastodon.py's cassettes (hashtag, public and account timelines, search, context; 40 per page
as `limit=40` returns them) and Bluesky PostViews from bskyr's getPosts/getQuotes recordings (100
per page as searchPosts `limit=100`), each copied with a distinct id/URI and author (5,000 authors,
each with one profile, as the services serve them), serialised to compact UTF-8 JSON bytes as the
services send them. Measured per platform in one run:

* collect: reading the answer's bytes (`decode_statuses` / `decode_posts`: each post's JSON kept
  as sent, its fields read with msgspec structs) + `normalise_page` (with the run's memo of the
  profiles already read, `known_authors`, as the collectors keep one per run: a profile that comes
  back byte for byte is not read again) + the runner's `consume`
  (pages grouped into commits of `[database] commit_items`, with cursor, counters and source
  links), as `radpulse collect` runs once the client library has the response body; target
  >= 20,000 posts/s;
* normalise only: decode + `normalise_page` (HTML to text for Mastodon);
* storage only: the runner's `consume` of the same pages already normalised, into a fresh
  database (the prepared inputs are `gc.freeze()`d so that the cyclic collector's rescans of
  them do not count against either figure). It is not a ceiling for collect: the prepared
  records are cold in memory, and with no normalising between commits the background WAL
  checkpoint competes with every commit instead of running while the next pages are read.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import gc
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import yaml
from pg import drop_pg, fresh_pg  # benchmarks/pg.py
from sqlalchemy import func, select

from radpulse.collection import after_batch_steps
from radpulse.collectors.bluesky import CLIENT as BSKY_CLIENT
from radpulse.collectors.bluesky.normalise import decode_posts as bsky_decode
from radpulse.collectors.bluesky.normalise import normalise_page as bsky_page
from radpulse.collectors.mastodon import CLIENT as MASTO_CLIENT
from radpulse.collectors.mastodon.normalise import decode_statuses as masto_decode
from radpulse.collectors.mastodon.normalise import normalise_page as masto_page
from radpulse.collectors.registry import get_collector
from radpulse.collectors.runner import RunSummary, consume, start_run
from radpulse.config import DatabaseSettings
from radpulse.db.engine import open_database
from radpulse.db.models import Post, Source
from radpulse.records import Batch, SourceSpec, provenance, utcnow

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
N_AUTHORS = 5000


def mastodon_templates() -> list[dict[str, Any]]:
    """Every distinct recorded status (by URI) in the Mastodon cassettes."""
    seen: dict[str, dict[str, Any]] = {}
    for path in sorted((FIXTURES / "mastodon").glob("*.yaml")):
        for i in yaml.safe_load(path.read_text())["interactions"]:
            if i["response"]["status"]["code"] != 200 or "/statuses" not in i["request"]["uri"] + "timelines":
                continue
            try:
                body = json.loads(i["response"]["body"]["string"])
            except ValueError:
                continue
            items = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
            for s in items:
                if isinstance(s, dict) and "uri" in s and "content" in s:
                    seen.setdefault(s["uri"], s)
    return list(seen.values())


def bluesky_templates() -> list[dict[str, Any]]:
    """The recorded PostViews (getPosts, getQuotes)."""
    views = []
    for name in ("f_getposts.yml", "f_getquotes.yml"):
        data = yaml.safe_load((FIXTURES / "bluesky" / name).read_text())
        views += json.loads(data["http_interactions"][0]["response"]["body"]["string"])["posts"]
    return views


def mastodon_pages(n: int, page_size: int = 40) -> list[bytes]:
    """`n` statuses with distinct ids, URIs and accounts, newest first, in pages of `page_size`."""
    templates = mastodon_templates()
    pages = []
    for start in range(0, n, page_size):
        page = []
        for i in range(start, min(start + page_size, n)):
            s = copy.deepcopy(templates[i % len(templates)])
            sid = str(117_100_000_000_000_000 - i)
            who = i % N_AUTHORS
            s["id"] = sid
            s["uri"] = f"https://med.example/users/rad{who}/statuses/{sid}"
            s["url"] = f"https://med.example/@rad{who}/{sid}"
            # an account's profile is the same on every status it posts (as the API serves it)
            s["account"] = {**templates[who % len(templates)]["account"], "id": str(who), "acct": f"rad{who}@med.example",
                            "url": f"https://med.example/@rad{who}", "uri": f"https://med.example/users/rad{who}"}
            s["favourites_count"] = i % 97
            page.append(s)
        pages.append(orjson.dumps(page))  # compact UTF-8 JSON, as the servers send it
    return pages


def bluesky_pages(n: int, page_size: int = 100) -> list[bytes]:
    """`n` PostViews with distinct at:// URIs and authors, in searchPosts answers of `page_size`."""
    templates = bluesky_templates()
    pages = []
    for start in range(0, n, page_size):
        posts = []
        for i in range(start, min(start + page_size, n)):
            v = copy.deepcopy(templates[i % len(templates)])
            who = i % N_AUTHORS
            did = f"did:plc:rad{who:020d}"
            # an author's profile is the same on every post (as the AppView serves it)
            v["author"] = {**templates[who % len(templates)]["author"], "did": did, "handle": f"rad{who}.bsky.social"}
            v["uri"] = f"at://{did}/app.bsky.feed.post/3lrad{i:09d}"
            v["likeCount"] = i % 97
            posts.append(v)
        answer: dict[str, Any] = {"posts": posts}
        if start + page_size < n:
            answer["cursor"] = str(start + page_size)
        pages.append(orjson.dumps(answer))  # compact UTF-8 JSON, as the servers send it
    return pages


def normalise_mastodon(raw: bytes, known_authors: dict):  # type: ignore[no-untyped-def,type-arg]
    now = utcnow()
    prov = provenance("https://med-mastodon.com/api/v1/timelines/tag/radiology", MASTO_CLIENT, now)
    return masto_page(masto_decode(raw), "med-mastodon.com", retrieved_at=now, provenance=prov,
                      known_authors=known_authors)


def normalise_bluesky(raw: bytes, known_authors: dict):  # type: ignore[no-untyped-def,type-arg]
    now = utcnow()
    prov = provenance("https://bsky.social/xrpc/app.bsky.feed.searchPosts", BSKY_CLIENT, now)
    views, _ = bsky_decode(raw)  # as the collector reads the answer's bytes
    return bsky_page(views, retrieved_at=now, provenance=prov, known_authors=known_authors)


def add_source(db, platform: str) -> SourceSpec:  # type: ignore[no-untyped-def]
    with db.session() as s:
        row = Source(name=f"{platform}:#radiology", platform=platform, kind="tag", value="radiology", settings={},
                     created_at=utcnow())
        s.add(row)
        s.flush()
        return SourceSpec(row.name, platform, "tag", "radiology", {}, row.id)


def bench_collect(url: str, platform: str, pages: list[bytes], normalise: Callable) -> tuple[float, float]:  # type: ignore[type-arg]
    """(wall, CPU) seconds for decode + normalise + consume (the collector's path), one batch per page."""
    db = open_database(url)
    spec = add_source(db, platform)
    summary = RunSummary(source=spec.name, platform=platform)
    summary.run_id = start_run(db, spec.name, spec.id, "collect")

    def batches():  # the collectors' loop bodies without the HTTP
        known_authors: dict = {}  # type: ignore[type-arg]  # the run's memo of profiles read, as the collectors keep it
        for k, raw in enumerate(pages):
            posts, authors, bad = normalise(raw, known_authors)
            yield Batch(posts=posts, authors=authors, quarantined=bad, cursor={"page": k}, fetched=len(posts))

    merge_rule = get_collector(platform).merge_rule
    start, cpu = time.perf_counter(), time.process_time()
    consume(db, batches(), summary, source=spec,
            after_batch=after_batch_steps(), commit_items=DatabaseSettings().commit_items,  # as `radpulse collect`
            merge_rule=merge_rule)
    seconds = (time.perf_counter() - start, time.process_time() - cpu)
    with db.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(Post)).scalar()
    assert stored == summary.new, (stored, summary.new)
    db.dispose()
    return seconds


def bench_storage(url: str, platform: str, normalised: list[tuple]) -> tuple[float, float]:  # type: ignore[type-arg]
    """(wall, CPU) seconds for the runner's `consume` of pre-normalised pages (storage alone, as
    collection pays it)."""
    db = open_database(url)
    spec = add_source(db, platform)
    summary = RunSummary(source=spec.name, platform=platform)
    summary.run_id = start_run(db, spec.name, spec.id, "collect")
    batches = [Batch(posts=posts, authors=authors, quarantined=bad, cursor={"page": k}, fetched=len(posts))
               for k, (posts, authors, bad) in enumerate(normalised)]
    merge_rule = get_collector(platform).merge_rule
    start, cpu = time.perf_counter(), time.process_time()
    consume(db, iter(batches), summary, source=spec, after_batch=after_batch_steps(),
            commit_items=DatabaseSettings().commit_items, merge_rule=merge_rule)
    seconds = (time.perf_counter() - start, time.process_time() - cpu)
    db.dispose()
    return seconds


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=40_000, help="posts per platform")
    ap.add_argument("--postgres", default="", help=f"admin URL of a PostgreSQL server, e.g. {DEFAULT_PG}")
    ap.add_argument("--gc-threshold", type=int, default=0,
                    help="first-generation threshold of the cyclic GC (default: Python's 700); a page of "
                         "posts allocates thousands of dicts, so a long-running collector may raise it")
    args = ap.parse_args(argv)
    n = args.posts
    if args.gc_threshold:
        gc.set_threshold(args.gc_threshold, *gc.get_threshold()[1:])
    print(f"cyclic GC thresholds {gc.get_threshold()}")
    runs = [
        ("Mastodon", "mastodon", mastodon_pages(n), normalise_mastodon, 40),
        ("Bluesky", "bluesky", bluesky_pages(n), normalise_bluesky, 100),
    ]
    pg_names: list[str] = []

    def pg(tag: str) -> str:  # a database of this run's own (dropped at the end)
        pg_names.append(f"radpulse_bench_{tag}_{os.getpid()}")
        return fresh_pg(args.postgres, pg_names[-1])

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("posts/s on the wall clock; per CPU-second of this process in brackets (its threads together: the "
          "background WAL checkpoint too; the database server's own CPU is not in it)")
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as cleanup:
        cleanup.callback(lambda: [drop_pg(args.postgres, name) for name in pg_names])
        for label, platform, pages, normalise, size in runs:
            start, cpu = time.perf_counter(), time.process_time()
            known: dict = {}  # type: ignore[type-arg]
            for raw in pages:  # streamed, as the collector does: each page's records are dropped
                normalise(raw, known)
            t_norm, c_norm = time.perf_counter() - start, time.process_time() - cpu
            known = {}
            normalised = [normalise(raw, known) for raw in pages]  # the storage-only input (not timed)
            assert sum(len(p) for p, _, _ in normalised) == n and not any(q for _, _, q in normalised)
            gc.collect()
            gc.freeze()  # the prepared inputs are long-lived: keep the cyclic GC from rescanning them
            targets = [("SQLite", f"sqlite:///{tmp}/{platform}-collect.db", f"sqlite:///{tmp}/{platform}-store.db")]
            if args.postgres:
                targets.append(("PostgreSQL", pg(f"{platform}_collect"), pg(f"{platform}_store")))
            print(f"{label} pages replayed from memory: {n:,} posts in {len(pages):,} pages of {size}")
            print(f"  {'normalise only (decode + normalise_page)':<52}{n / t_norm:>9,.0f}  [{n / c_norm:>9,.0f}]")
            for db_label, collect_url, store_url in targets:
                (t_collect, c_collect) = bench_collect(collect_url, platform, pages, normalise)
                (t_store, c_store) = bench_storage(store_url, platform, normalised)
                verdict = "met" if n / t_collect >= 20_000 else "NOT met"
                print(f"  {db_label + ': collect (decode + normalise + store)':<52}{n / t_collect:>9,.0f}  "
                      f"[{n / c_collect:>9,.0f}]  target 20,000 {verdict}")
                print(f"  {db_label + ': storage only (consume of normalised pages)':<52}{n / t_store:>9,.0f}  "
                      f"[{n / c_store:>9,.0f}]  collect/storage = {t_store / t_collect:.2f}")

if __name__ == "__main__":
    main()
