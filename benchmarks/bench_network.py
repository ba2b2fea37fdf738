"""PageRank of a 30-day window of the demo network (target <= 1 s on the 1,000,000-post demo).

    .venv/bin/python benchmarks/bench_network.py [--posts 1000000] [--db PATH] [--days 30] [--postgres URL]

Builds the demo into its own database (`--db`, default a file in the system's temp folder,
reused when it already holds a demo of that size), then for the window of the last `--days`
days (the RSNA weeks of the demo's year, its busiest) prints the edge count, the time to read
the window's public edges (from `rollup_edge_daily`, and with `--live` also from the live
edges joined to their posts), the PageRank time (`network.pagerank` on the edge arrays), and
the whole `influence()` call cold and cached; each with the process's CPU seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from dataclasses import replace

import pandas as pd
from sqlalchemy import select, true

from radpulse.db.engine import open_database
from radpulse.db.models import Meta
from radpulse.db.queries import network
from radpulse.db.queries.filters import PostFilters
from radpulse.demo import build_demo


def demo_db(url: str, posts: int):  # type: ignore[no-untyped-def]
    db = open_database(url)
    with db.engine.connect() as conn:
        meta = conn.execute(select(Meta.value).where(Meta.key == "demo")).scalar()
    if not meta or meta.get("posts") != posts:
        t = time.perf_counter()
        build_demo(db, posts=posts, end=dt.date(2026, 12, 10))
        print(f"built the demo: {posts:,} posts in {time.perf_counter() - t:.1f} s")
    return db


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--db", default="", help="SQLite file for the demo (default: in the temp folder)")
    ap.add_argument("--postgres", default="", help="a PostgreSQL URL to use instead of SQLite")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--end", default="2026-12-10", help="the window's end (exclusive), YYYY-MM-DD")
    ap.add_argument("--live", action="store_true", help="also time reading the live edges")
    args = ap.parse_args(argv)
    path = args.db or str(Path(tempfile.gettempdir()) / f"radpulse-bench-network-{args.posts}.db")
    url = args.postgres or f"sqlite:///{path}"
    db = demo_db(url, args.posts)
    end = dt.datetime.fromisoformat(args.end).replace(tzinfo=dt.timezone.utc)
    f = PostFilters(start=end - dt.timedelta(days=args.days), end=end)
    lines = []

    def timed(label: str, fn):  # type: ignore[no-untyped-def]
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        lines.append((label, wall, cpu))
        return out

    rows = timed("read edges (edge rollup)", lambda: network._edge_rows(db, f))
    if args.live:
        timed("read edges (live, held rule)", lambda: network._edge_rows(db, replace(f, extra=(true(),))))
    codes, nodes = pd.factorize(pd.concat([rows["source"], rows["target"]], ignore_index=True))
    timed("PageRank (sparse matrix)", lambda: network.pagerank(codes[: len(rows)], codes[len(rows):],
                                                                rows["weight"].to_numpy(), len(nodes)))
    network.clear_influence_cache()
    timed("influence() cold", lambda: network.influence(db, f))
    timed("influence() cached", lambda: network.influence(db, f))
    pairs = rows.groupby(["source", "target"]).ngroups
    print(f"{db.dialect}: {args.posts:,}-post demo, {args.days}-day window to {args.end}: {int(rows['weight'].sum()):,} "
          f"interactions, {pairs:,} weighted edges, {len(nodes):,} accounts")
    for label, wall, cpu in lines:
        target = f"  (target <= 1 s: {'OK' if wall <= 1 else 'NOT met'})" if label == "influence() cold" else ""
        print(f"  {label:<30}{wall:7.3f} s  cpu {cpu:6.3f} s{target}")
    db.dispose()


if __name__ == "__main__":
    main()
