"""Rollup refresh after 10,000 new posts on a 1,000,000-post demo database (target: <= 2 s).

    python benchmarks/bench_rollups.py [--posts 1000000] [--db PATH] [--new 10000]
                                       [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

Builds (or reuses, with --db) `radpulse demo --posts N --no-serve` in a database of its own,
then writes `--new` posts dated in the demo's last two days through the collectors' real path
(`runner.consume`: upsert, source links, linking, stale-day marks), annotates the posts of the
touched days (the demo leaves a million posts unannotated; a running deployment has them
annotated, which is what makes a refresh expensive) and times `refresh_stale_rollups`, which
recomputes the rollups of exactly the touched days, then the same refresh again (after a WAL
checkpoint, the state the first one started from). Also prints a full rebuild for scale.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

END = dt.date(2026, 11, 27)


def build(url: str, posts: int) -> None:
    cmd = [sys.executable, "-m", "radpulse", "--database-url", url, "demo", "--posts", str(posts), "--no-serve",
           "--no-analyze", "--end", END.isoformat()]
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    print(f"  built the {posts:,}-post demo in {time.perf_counter() - started:.0f} s")


def new_posts(n: int, known_authors: int):  # type: ignore[no-untyped-def]
    """`n` demo-like posts (another seed: new ids) dated in the demo's last two days."""
    import random

    from radpulse.demo import _Generator

    gen, out, rng = _Generator(4242, n, END), [], random.Random(7)
    gen.posts(n, lambda batch, _cites: out.extend(batch))
    last = dt.datetime(END.year, END.month, END.day, tzinfo=dt.timezone.utc)
    for post in out:
        post.created_at = last - dt.timedelta(seconds=rng.randrange(2 * 86_400 - 1)) + dt.timedelta(days=1)
        post.metrics_read_at = post.created_at
        if post.author_external_id:
            post.author_external_id = f"demo-42-a{rng.randrange(known_authors)}"
    return out


def annotate_days(db, days) -> int:  # type: ignore[no-untyped-def]
    """Annotate every post of `days` (what `analyze` would have done as they arrived)."""
    from sqlalchemy import delete, insert, select

    from radpulse.analysis.pipeline import Annotator
    from radpulse.analysis.store import post_text
    from radpulse.db.models import Annotation, Post
    from radpulse.db.days import day_start

    annotator = Annotator()
    lo, hi = day_start(min(days)), day_start(max(days)) + dt.timedelta(days=1)
    # as `radpulse analyze` writes (analysis/store.py): the WAL checkpointed off the writer's thread
    with db.background_checkpoints(), db.engine.begin() as conn:
        rows = conn.execute(select(Post.id, Post.title, Post.text, Post.has_media)
                            .where(Post.created_at >= lo, Post.created_at < hi)).all()
        found = annotator.annotate([post_text(r.title, r.text) for r in rows], ids=[r.id for r in rows],
                                   has_media=[bool(r.has_media) for r in rows])
        now = dt.datetime.now(dt.timezone.utc)
        conn.execute(delete(Annotation).where(Annotation.post_id.in_(select(Post.id).where(
            Post.created_at >= lo, Post.created_at < hi))))
        conn.execute(insert(Annotation), [
            {"post_id": r.id, "model_name": annotator.name, "model_version": annotator.version,
             "sentiment": a.sentiment, "sentiment_score": a.sentiment_score, "subspecialty": a.subspecialty,
             "subspecialties": a.subspecialties, "themes": a.themes, "flags": a.flags, "language": a.language,
             "extra": None, "annotated_at": now} for r, a in zip(rows, found)])
    return len(rows)  # leaving the block: committed, then the checkpointer's last pass covers it


def measure(label: str, url: str, posts: int, n_new: int, annotate: bool) -> None:
    from sqlalchemy import func, select, text

    from radpulse.collection import after_batch_steps
    from radpulse.collectors import runner
    from radpulse.db.engine import open_database
    from radpulse.db.models import Post, RollupDaily, RollupStaleDay, Source
    from radpulse.db.rollups import (
        as_dates,
        rebuild_rollups,
        refresh_rollups,
        refresh_stale_rollups,
    )
    from radpulse.records import Batch, SourceSpec

    db = open_database(url)
    with db.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(Post)).scalar_one()
        sid = conn.execute(select(Source.id).where(Source.name == "demo:x")).scalar_one()
    records = new_posts(n_new, max(200, posts // 20))
    spec = SourceSpec("demo:x", "x", "synthetic", "", id=sid)
    summary = runner.RunSummary(source="bench", platform="x")
    started = time.perf_counter()
    # consume marks the touched days; collect_sources refreshes them after its last source (timed below)
    runner.consume(db, (Batch(posts=records[i:i + 500]) for i in range(0, len(records), 500)), summary,
                   source=spec, commit_items=1000, after_batch=after_batch_steps())  # linking, day marks
    wrote = time.perf_counter() - started
    with db.engine.connect() as conn:
        days = as_dates(conn.execute(select(RollupStaleDay.day)).scalars())
    annotated = annotate_days(db, days) if annotate else 0
    lo, hi = min(days), max(days) + dt.timedelta(days=1)
    with db.engine.connect() as conn:
        in_days = conn.execute(select(func.count()).select_from(Post).where(
            Post.created_at >= dt.datetime(lo.year, lo.month, lo.day, tzinfo=dt.timezone.utc),
            Post.created_at < dt.datetime(hi.year, hi.month, hi.day, tzinfo=dt.timezone.utc))).scalar_one()
    started = time.perf_counter()
    refresh_stale_rollups(db)
    took = time.perf_counter() - started
    if db.dialect == "sqlite":  # the repeat starts as the first did: the WAL checkpointed, as a
        # collection or an analysis leaves it (both checkpoint as they write); otherwise every page
        # the first refresh wrote is read back through the WAL (~20 % slower)
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    started = time.perf_counter()
    refresh_rollups(db, days)
    again = time.perf_counter() - started
    with db.engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(RollupDaily).where(RollupDaily.day.in_(sorted(days)))).scalar_one()
        if db.dialect == "sqlite":
            conn.execute(text("PRAGMA optimize"))
    print(f"{label}: {stored + summary.new:,} posts; {summary.new:,} new written through consume in {wrote:.1f} s "
          f"({summary.new / wrote:,.0f} posts/s)")
    print(f"  refresh of the {len(days)} touched days ({in_days:,} posts, {annotated:,} annotated; "
          f"{rows:,} rollup_daily rows): {took:.2f} s, again {again:.2f} s (target <= 2 s)")
    started = time.perf_counter()
    n_days = rebuild_rollups(db)
    print(f"  full rebuild ({n_days} days): {time.perf_counter() - started:.1f} s")
    db.dispose()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=1_000_000, help="size of the demo database")
    ap.add_argument("--new", type=int, default=10_000, help="new posts to write before the refresh")
    ap.add_argument("--db", help="SQLite file to build once and reuse (default: a temporary one)")
    ap.add_argument("--postgres", metavar="URL", help="also run on PostgreSQL (admin URL; a database of its own is made)")
    ap.add_argument("--no-annotate", dest="annotate", action="store_false",
                    help="leave the touched days unannotated (a cheaper refresh)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "demo.db"
        url = f"sqlite:///{path}"
        if not path.exists():
            build(url, args.posts)
        elif args.db:
            import shutil  # a copy: the reused file stays as the demo made it

            copy = Path(tmp) / "demo.db"
            shutil.copy(path, copy)
            url = f"sqlite:///{copy}"
        measure("SQLite", url, args.posts, args.new, args.annotate)
    if args.postgres:
        from pg import drop_pg, fresh_pg

        name = f"radpulse_bench_rollups_{os.getpid()}"
        url = fresh_pg(args.postgres, name)
        try:
            build(url, args.posts)
            measure("PostgreSQL", url, args.posts, args.new, args.annotate)
        finally:
            drop_pg(args.postgres, name)


if __name__ == "__main__":
    main()
