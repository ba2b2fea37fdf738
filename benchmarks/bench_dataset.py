"""The researcher's dataset at scale: a year of posts into pandas, Parquet export, copy to PostgreSQL.

    python benchmarks/bench_dataset.py [--posts 1000000] [--db PATH] [--postgres URL] [--pg-name NAME] [--keep]

Builds (once; reused when it has the posts asked for) a demo database of N posts in its own SQLite
file (`radpulse demo --posts N --no-serve --no-analyze`); `--db PATH` of an existing file uses that
database as it is (never rebuilt or deleted; the export writes its pseudonym key there when it has
none, so pass a copy of a shared file). Then in a fresh process each:

1. `radpulse.open(db).posts(since=..., until=...)` over one year: rows, seconds, peak memory
   (targets at 1,000,000 posts: <= 10 s, <= 2 GB);
2. `Dataset.to_parquet(path)` of every post: rows, seconds, peak memory (target <= 30 s);
3. `radpulse db copy --to <fresh PostgreSQL database>`: rows, seconds, peak memory (target <= 3 min),
   with the per-table counts checked by the command itself.

Peak memory is the process's ru_maxrss (Python, pandas and the libraries included), and for a
read on several cores also the most the process and its workers held at once (their PSS summed,
sampled every 100 ms; `posts()` starts one worker per usable CPU, at most 4): the 2 GB target
applies to that. CPU is user + system time of the process and its workers (all threads): on a
shared machine the wall time grows with the load average (printed), the CPU time much less. The
year is read twice: in a plain process (workers forked), and with another thread running, as in
Jupyter (workers from a fork server, started by the first read of a session).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pg import DEFAULT_PG, drop_pg, fresh_pg  # noqa: E402

END = "2026-11-27"

HEAD = """
import json, os, resource, sys, time
cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) + sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2])
def report(**figures):
    print(json.dumps({**figures, "seconds": time.perf_counter() - t, "cpu": cpu() - c,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "worker_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                      "load": os.getloadavg()[0]}))
"""

YEAR = HEAD + """
import radpulse, threading
if len(sys.argv) > 2:  # as in Jupyter: other threads run, so workers come from a fork server
    threading.Thread(target=threading.Event().wait, daemon=True).start()
ds = radpulse.open(sys.argv[1], max_rows=5_000_000)
t, c = time.perf_counter(), cpu()
frame = ds.posts(since="2025-11-28", until="2026-11-28")
report(rows=len(frame), frame_mb=frame.memory_usage(deep=True).sum() / 2**20)
"""

PARQUET = HEAD + """
import radpulse
ds = radpulse.open(sys.argv[1])
t, c = time.perf_counter(), cpu()
report(rows=ds.to_parquet(sys.argv[2]))
"""

COPY = HEAD + """
from radpulse.db.copy import copy_database
t, c = time.perf_counter(), cpu()
counts = copy_database(sys.argv[1], sys.argv[2])
report(rows=sum(x.copied for x in counts), posts=next(x.copied for x in counts if x.table == "posts"))
"""


def run(code: str, *args: str) -> dict:
    """Run `code` in a fresh process; its figures, and the most memory it and its workers held at
    once (`tree_peak_mb`, their proportional set sizes summed every 100 ms from here)."""
    import psutil

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=out, stderr=err, text=True)
        watched, peak = psutil.Process(proc.pid), 0
        while proc.poll() is None:
            total = 0
            try:
                for p in [watched, *watched.children(recursive=True)]:
                    # PSS: a page shared by a forked worker and its parent counted once between them
                    total += p.memory_full_info().pss
            except psutil.Error:
                pass
            peak = max(peak, total)
            time.sleep(0.1)  # reading a process's PSS costs ~3 ms: sampled at 10 Hz
        out.seek(0), err.seek(0)
        if proc.returncode:
            sys.exit(err.read())
        return {**json.loads(out.read().strip().splitlines()[-1]), "tree_peak_mb": peak / 2**20}


def stored_posts(path: Path) -> int:
    import sqlite3

    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        try:
            return conn.execute("SELECT count(*) FROM posts").fetchone()[0]
        except sqlite3.Error:
            return 0


def build(path: Path, posts: int, given: bool) -> None:
    if given and path.exists():
        print(f"demo database {path}: {stored_posts(path):,} posts (as given)")
        return
    if stored_posts(path) == posts:
        print(f"demo database {path}: {posts:,} posts (reused)")
        return
    path.unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "radpulse", "--database-url", f"sqlite:///{path}", "demo", "--posts",
                    str(posts), "--no-serve", "--no-analyze", "--end", END], check=True, stdout=subprocess.DEVNULL)
    print(f"demo database {path}: {posts:,} posts built in {time.perf_counter() - started:.0f} s")


def verdict(value: float, limit: float, at_full: bool) -> str:
    if not at_full:
        return "(targets apply at 1,000,000 posts)"
    return "meets the target" if value <= limit else "MISSES the target"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--db", type=Path, default=None, help="the demo database (default: in the temp folder)")
    ap.add_argument("--postgres", default=os.environ.get("RADPULSE_TEST_PG_URL", DEFAULT_PG),
                    help="an admin URL of the PostgreSQL server (a fresh database is made there)")
    ap.add_argument("--pg-name", default=None, help="the PostgreSQL database to create, copy into and drop "
                    "(default radpulse_bench_copy_PID)")
    ap.add_argument("--keep", action="store_true", help="keep the PostgreSQL copy")
    ap.add_argument("--only", choices=["year", "parquet", "copy"], action="append",
                    help="run only these measurements (repeatable)")
    args = ap.parse_args()
    path = args.db or Path(tempfile.gettempdir()) / f"radpulse-bench-dataset-{args.posts}.db"
    build(path, args.posts, args.db is not None)
    full = args.posts >= 1_000_000

    only = set(args.only or ["year", "parquet", "copy"])

    def line(label: str, r: dict, extra: str, target: str, ok: str) -> None:
        workers = (f" (with its workers {r['tree_peak_mb']:.0f} MB at once)"
                   if r["tree_peak_mb"] > r["peak_mb"] * 1.05 else "")
        print(f"{label:18} {r['rows']:>10,} rows {r['seconds']:7.1f} s  cpu {r['cpu']:6.1f} s  "
              f"peak {r['peak_mb']:6.0f} MB{workers}  load {r['load']:4.1f}  ({extra})  {target}: {ok}")

    if "year" in only:
        for label, extra in (("posts() one year", ()), ("  ... threads running", ("threads",))):
            year = run(YEAR, str(path), *extra)
            line(label, year, f"frame {year['frame_mb']:.0f} MB", "targets 10 s, 2048 MB",
                 verdict(max(year["seconds"] / 10, max(year["peak_mb"], year["tree_peak_mb"]) / 2048), 1, full))
    if "parquet" in only:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "posts.parquet"
            pq = run(PARQUET, str(path), str(out))
            size = out.stat().st_size / 2**20
        line("to_parquet()", pq, f"file {size:.0f} MB", "target 30 s", verdict(pq["seconds"], 30, full))
    if "copy" in only:
        name = args.pg_name or f"radpulse_bench_copy_{os.getpid()}"
        target = fresh_pg(args.postgres, name)
        try:
            cp = run(COPY, f"sqlite:///{path}", target)
        finally:
            if not args.keep:
                drop_pg(args.postgres, name)
        line("db copy", cp, f"{cp['posts']:,} posts", "target 180 s", verdict(cp["seconds"], 180, full))


if __name__ == "__main__":
    main()
