"""Bulk upsert of normalised posts: radpulse's store vs plain sqlite3 executemany of the same rows.

    python benchmarks/bench_upsert.py [--posts 200000] [--batch 5000] [--postgres URL]

Prints rows/s for the first insert and the idempotent re-ingest (with newer metrics) on SQLite
and PostgreSQL, and the ratio to plain `sqlite3.executemany` INSERT / INSERT .. ON CONFLICT DO
NOTHING of the same rows measured in the same run (the ceiling).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import tempfile
import time
from pathlib import Path

from pg import fresh_pg  # benchmarks/pg.py
from sqlalchemy import text

from radpulse.db.engine import open_database
from radpulse.db.store import (
    POST_COLUMNS,
    RAW_COLUMNS,
    Values,
    post_rows,
    upsert_authors,
    upsert_posts,
)
from radpulse.records import AuthorRecord, PostRecord

T0 = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def make_posts(n: int, likes: int, read: dt.datetime) -> list[PostRecord]:
    return [
        PostRecord(
            platform="x", external_id=str(10**15 + i), text=f"Case of the day #{i}: acute stroke CT perfusion #NeuroRad #FOAMrad",
            created_at=T0 + dt.timedelta(seconds=i), author_external_id=str(i % 5000), url=f"https://x.com/i/status/{10**15 + i}",
            language="en", reply_count=i % 7, like_count=likes + i % 100, repost_count=i % 13, quote_count=i % 3,
            view_count=likes * 10, metrics_read_at=read, hashtags=["NeuroRad", "FOAMrad"],
            links=["https://doi.org/10.1148/radiol.2026" + str(i % 1000)] if i % 10 == 0 else [],
            raw={"id": str(10**15 + i), "text": "…", "public_metrics": {"like_count": likes}},
            provenance={"endpoint": "tweets/search/recent", "client": "tweepy/4.17"},
        )
        for i in range(n)
    ]


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds else float("inf")


def bench_plain_sqlite(path: Path, posts: list[PostRecord], batch: int) -> tuple[float, float]:
    """The ceiling: the same rows, pre-converted, through sqlite3 executemany in the same batches."""
    # same table shape, unique key and file settings (page size, WAL) as radpulse's posts table
    from radpulse.db.engine import create_db_engine
    from radpulse.db.models import Post

    engine = create_db_engine(f"sqlite:///{path}")
    Post.__table__.create(engine)
    engine.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA cache_size=-65536")

    class _Conn:  # Values only needs the dialect name
        class dialect:  # noqa: N801
            name = "sqlite"

    rows = post_rows(posts, T0, Values(_Conn()))  # type: ignore[arg-type]
    cols = ", ".join(POST_COLUMNS)
    marks = ", ".join("CAST(? AS TEXT)" if c in RAW_COLUMNS else "?" for c in POST_COLUMNS)  # as radpulse binds raw
    timings = []
    for sql in (f"INSERT INTO posts ({cols}) VALUES ({marks})",
                f"INSERT INTO posts ({cols}) VALUES ({marks}) ON CONFLICT (platform, external_id) DO NOTHING"):
        start = time.perf_counter()
        for i in range(0, len(rows), batch):
            conn.execute("BEGIN")
            conn.executemany(sql, rows[i : i + batch])
            conn.execute("COMMIT")
        timings.append(time.perf_counter() - start)
    conn.close()
    return timings[0], timings[1]


def bench_radpulse(url: str, posts: list[PostRecord], newer: list[PostRecord], batch: int) -> tuple[float, float]:
    db = open_database(url)
    authors = [AuthorRecord("x", str(i), handle=f"rad{i}", followers=i) for i in range(5000)]
    timings = []
    for records in (posts, newer):
        start = time.perf_counter()
        with db.engine.begin() as conn:
            upsert_authors(conn, authors)
        for i in range(0, len(records), batch):
            with db.engine.begin() as conn:  # each batch is one transaction
                upsert_posts(conn, records[i : i + batch], returning=False)
        timings.append(time.perf_counter() - start)
    with db.engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM posts")).scalar()
        likes = conn.execute(text("SELECT min(like_count) FROM posts")).scalar()
    assert n == len(posts), f"expected {len(posts)} posts, found {n}"
    assert likes >= newer[0].like_count, "re-ingest did not refresh metrics"
    db.dispose()
    return timings[0], timings[1]




def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=5_000)
    ap.add_argument("--postgres", default=DEFAULT_PG, help="admin URL of a PostgreSQL server ('' to skip)")
    args = ap.parse_args(argv)
    n = args.posts
    posts = make_posts(n, 1, T0)
    newer = make_posts(n, 50, T0 + dt.timedelta(hours=6))
    with tempfile.TemporaryDirectory() as tmp:
        plain_ins, plain_dn = bench_plain_sqlite(Path(tmp) / "plain.db", posts, args.batch)
        rp_ins, rp_re = bench_radpulse(f"sqlite:///{tmp}/radpulse.db", posts, newer, args.batch)
    print(f"bulk upsert of {n:,} normalised posts, batches of {args.batch:,}")
    print(f"  plain sqlite3 executemany INSERT         {rate(n, plain_ins):>10,.0f} rows/s  (ceiling)")
    print(f"  plain sqlite3 INSERT .. ON CONFLICT NOTHING {rate(n, plain_dn):>7,.0f} rows/s  (re-ingest ceiling)")
    print(f"  radpulse SQLite first insert             {rate(n, rp_ins):>10,.0f} rows/s  ratio {plain_ins / rp_ins:.2f}x of plain (target >= 0.40)")
    print(f"  radpulse SQLite re-ingest (newer metrics){rate(n, rp_re):>10,.0f} rows/s  ratio {plain_dn / rp_re:.2f}x of plain (target >= 0.30)")
    if args.postgres:
        url = fresh_pg(args.postgres, "radpulse_bench")
        pg_ins, pg_re = bench_radpulse(url, posts, newer, args.batch)
        print(f"  radpulse PostgreSQL first insert         {rate(n, pg_ins):>10,.0f} rows/s")
        print(f"  radpulse PostgreSQL re-ingest            {rate(n, pg_re):>10,.0f} rows/s")


if __name__ == "__main__":
    main()
