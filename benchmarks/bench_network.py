"""PageRank of a 30-day window of the demo network (target <= 1 s on the 1,000,000-post demo).

    .venv/bin/python benchmarks/bench_network.py [--posts 1000000] [--db PATH] [--days 30] [--postgres URL]

Builds the demo into its own database (`--db`, default a file in the system's temp folder,
reused when it already holds a demo of that size), then for the window of the last `--days`
days (the RSNA weeks of the demo's year, its busiest) prints the edge count, the time to read
the window's edges through the read layer (held and deleted posts filtered) and build the
graph, the PageRank time, and the whole `influence()` call cold and cached.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import networkx as nx
from sqlalchemy import select

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
    args = ap.parse_args(argv)
    path = args.db or str(Path(tempfile.gettempdir()) / f"radpulse-bench-network-{args.posts}.db")
    url = args.postgres or f"sqlite:///{path}"
    db = demo_db(url, args.posts)
    end = dt.datetime(2026, 12, 10, tzinfo=dt.timezone.utc)
    f = PostFilters(start=end - dt.timedelta(days=args.days), end=end)

    t = time.perf_counter()
    frame = network.edges(db, f)
    read = time.perf_counter() - t
    t = time.perf_counter()
    g = network._graph_of(frame)
    build = time.perf_counter() - t
    t = time.perf_counter()
    nx.pagerank(g, weight="weight")
    rank = time.perf_counter() - t
    network.clear_influence_cache()
    t = time.perf_counter()
    network.influence(db, f)
    cold = time.perf_counter() - t
    t = time.perf_counter()
    network.influence(db, f)
    warm = time.perf_counter() - t
    print(f"{db.dialect}: {args.posts:,}-post demo, {args.days}-day window: {int(frame['weight'].sum()):,} "
          f"interactions, {len(frame):,} weighted edges, {g.number_of_nodes():,} accounts")
    print(f"  read edges (read layer)   {read:6.3f} s")
    print(f"  build graph               {build:6.3f} s")
    print(f"  PageRank (networkx)       {rank:6.3f} s")
    print(f"  influence() cold          {cold:6.3f} s  (target <= 1 s: {'OK' if cold <= 1 else 'NOT met'})")
    print(f"  influence() cached        {warm:6.3f} s")
    db.dispose()


if __name__ == "__main__":
    main()
