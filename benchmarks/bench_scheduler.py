"""Scheduler figures: idle cost of 100 scheduled sources, and two workers against one on PostgreSQL.

    python benchmarks/bench_scheduler.py [--seconds 60] [--posts 2000] [--pg URL] [--skip-workers]

1. 100 sources (X hashtags, every 15 min, jittered) on one BackgroundScheduler, idle: CPU (% of
   one core) and resident memory of this process, measured with psutil over --seconds. Then the
   scheduler's analyze job runs (as after a collection that added posts) on --posts synthetic
   posts (`radpulse demo`, built by another process beforehand), and the resident memory of this
   process is measured again, and its idle CPU for a third of --seconds.
2. The same workload collected by one `run --once` worker and then by two at once, on a fresh
   PostgreSQL database each time (tests/ops/slow_worker.py: 40 sources x 8 pages, a simulated
   API latency of 0.1 s per page, so ~32 s of collection for one worker: each process's start-up
   of a few seconds does not dominate, and the figure measures how well the work is shared,
   not parsing speed). Prints both wall times, their ratio (target <= 0.6), the ratio of the
   collection spans alone (first source taken to last source done) and how many sources each
   worker took.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psutil
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb(proc: psutil.Process) -> float:
    return proc.memory_info().rss / 2**20


def idle(seconds: float, posts: int) -> None:
    from radpulse.config import default_config_data, settings_from_dict
    from radpulse.records import SourceSpec
    from radpulse.scheduler import build_scheduler

    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'bench.db'}"
    if posts:  # posts to analyze, written by another process (this one stays as the scheduler is)
        subprocess.run([sys.executable, "-m", "radpulse", "--database-url", url, "demo", "--posts", str(posts),
                        "--no-analyze", "--no-serve"], check=True, capture_output=True, env={**os.environ,
                                                                                              "PYTHONPATH": str(ROOT)})
    settings = settings_from_dict(default_config_data(), environ={})
    sources = [SourceSpec(f"x:#tag{i}", "x", "hashtag", f"#tag{i}") for i in range(100)]
    scheduler = build_scheduler(settings, url, blocking=False, sources=sources)
    scheduler.start(paused=True)
    later = datetime.now(timezone.utc) + timedelta(days=1)
    for job in scheduler.get_jobs():  # idle: nothing due during the measurement
        job.modify(next_run_time=later)
    scheduler.resume()
    proc = psutil.Process()
    proc.cpu_percent(None)
    time.sleep(seconds)
    cpu = proc.cpu_percent(None)
    rss = rss_mb(proc)
    jobs = len(scheduler.get_jobs())
    print(f"100 sources scheduled ({jobs} jobs), idle for {seconds:g} s: CPU {cpu:.2f}% of a core "
          f"(target < 5%), memory {rss:.0f} MB RSS (target < 300 MB)")
    if posts:
        analyzed = threading.Event()
        outcome: dict = {}

        def done(event) -> None:  # type: ignore[no-untyped-def]
            if event.job_id == "analyze":
                outcome.update(getattr(event, "retval", None) or {"exception": repr(event.exception)})
                analyzed.set()

        scheduler.add_listener(done, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        start = time.perf_counter()
        scheduler.get_job("analyze").modify(next_run_time=datetime.now(timezone.utc))
        assert analyzed.wait(1800), "the analyze job did not finish"
        took = time.perf_counter() - start
        after = rss_mb(proc)
        children = [c for c in proc.children(recursive=True) if c.is_running()]
        left = ", ".join(f"{' '.join(c.cmdline()[-2:])[:60]} {rss_mb(c):.0f} MB" for c in children) or "none"
        proc.cpu_percent(None)
        time.sleep(seconds / 3)
        cpu_after = proc.cpu_percent(None)
        print(f"analyze job on {posts} posts ({took:.1f} s): {outcome}; this process {after:.0f} MB RSS after it "
              f"(was {rss:.0f} MB; target < 300 MB); child processes left running: {left}; "
              f"idle CPU after it {cpu_after:.2f}% of a core")
    scheduler.shutdown()


SOURCES, PAGES, LATENCY = 40, 8, 0.1


def workers(pg_admin: str, n: int) -> tuple[float, float, list[int]]:
    """(wall time, collection span, sources per worker) of `n` workers on a fresh database."""
    name = f"radpulse_bench_sched_{os.getpid()}"
    admin = create_engine(pg_admin, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_admin.rsplit("/", 1)[0] + f"/{name}"
    from radpulse.db.engine import open_database

    open_database(url).dispose()  # migrated before the clock starts
    log = Path(tempfile.mkdtemp()) / "holders.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    args = [str(SOURCES), str(PAGES), str(LATENCY)]
    procs = [subprocess.Popen([sys.executable, str(ROOT / "tests/ops/slow_worker.py"), url, str(log), *args],
                              env=env, stdout=subprocess.DEVNULL) for _ in range(n)]
    assert all(p.wait() == 0 for p in procs)
    took = time.perf_counter() - start
    held = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(held) == SOURCES, f"{len(held)} sources collected, expected {SOURCES}"
    span = max(h["end"] for h in held) - min(h["start"] for h in held)
    per_worker = sorted(Counter(h["pid"] for h in held).values(), reverse=True)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    return took, span, per_worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--posts", type=int, default=2000, help="posts the analyze job annotates (0: no analyze run)")
    parser.add_argument("--skip-workers", action="store_true", help="only the idle and analyze figures")
    parser.add_argument("--pg", default=os.environ.get("RADPULSE_TEST_PG_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    idle(args.seconds, args.posts)
    if args.skip_workers:
        return
    (one, span1, _), (two, span2, shares) = workers(args.pg, 1), workers(args.pg, 2)
    print(f"{SOURCES} sources x {PAGES} pages ({LATENCY:g} s each) on PostgreSQL: one worker {one:.2f} s, "
          f"two workers {two:.2f} s, ratio {two / one:.2f} (target <= 0.6; wall time, start-up included)")
    print(f"collection span alone: one {span1:.2f} s, two {span2:.2f} s, ratio {span2 / span1:.2f}; "
          f"sources taken by each of the two workers: {shares}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

if __name__ == "__main__":
    main()
