"""Scheduler figures: idle cost of 100 scheduled sources, and two workers against one on PostgreSQL.

    python benchmarks/bench_scheduler.py [--seconds 60] [--posts 2000] [--pg URL] [--skip-workers] [--repeat N]

1. 100 sources (X hashtags, every 15 min, jittered) on one BackgroundScheduler, idle: CPU (% of
   one core) and resident memory of this process, measured with psutil over --seconds. Then the
   scheduler's analyze job runs (as after a collection that added posts) on --posts synthetic
   posts (`radpulse demo`, built by another process beforehand), and the resident memory of this
   process is measured again, and its idle CPU for a third of --seconds.
2. A replayed workload collected by one `radpulse run --once --job collect` process and then by
   two at once, on a fresh PostgreSQL database each time: 40 Mastodon tags on two loopback
   instances (tests/collectors/mastodon/mastodon_replay.py: a real HTTP server serving statuses
   built from the recorded payloads), 35 statuses each, 5 a page, each answer after 0.1 s (9
   requests per tag: ~36 s of API latency for one worker, so start-up does not dominate and the
   figure measures how well the work is shared). Prints both wall times, their ratio (target
   <= 0.6), the ratio of the collection spans alone (first source started to last finished, from
   collection_runs), how many sources each worker took, and the workers' CPU seconds;
   --repeat N runs N pairs and prints the median ratio (the machine is shared: figures are noisy).
   Each worker starts in a session of its own, as two containers run in cgroups of their own:
   with the kernel's autogroup scheduling (/proc/sys/kernel/sched_autogroup_enabled) the CPU is
   shared between sessions, so two workers in one session would share one slice of a machine
   busy with other sessions' work and their start-up and parsing would not run side by side
   (--same-session measures that: on a 2-core machine at load 11, about 0.65 instead of 0.56).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
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
from sqlalchemy import create_engine, func, select, text

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


SOURCES, PER_SOURCE, LIMIT, LATENCY = 40, 35, 5, 0.1


def replay_instances() -> tuple[list, str]:
    """Two loopback Mastodon instances (20 tags each) replaying the recorded payloads, each page
    after LATENCY seconds, and the radpulse.toml that reads them."""
    from tests.collectors.mastodon import mastodon_replay as mr
    from tests.conftest import FIXTURES
    from tests.ops.test_two_workers import tag_statuses, worker_config

    tags = [f"radiology{i}" for i in range(SOURCES)]
    statuses = tag_statuses(FIXTURES, tags, PER_SOURCE)
    half = SOURCES // 2
    instances = [mr.LoopbackInstance(FIXTURES, {t: statuses[t] for t in part}, latency=LATENCY)
                 for part in (tags[:half], tags[half:])]
    return instances, worker_config(instances, limit=LIMIT)


def workers(pg_admin: str, n: int, config: Path, own_session: bool = False) -> tuple[float, float, list[int], float]:
    """(wall time, collection span, sources per worker, CPU seconds of the workers) of `n`
    `radpulse run --once --job collect` processes on a fresh database."""
    from radpulse.db.engine import open_database
    from radpulse.db.models import CollectionRun, Post

    name = f"radpulse_bench_sched_{os.getpid()}"
    admin = create_engine(pg_admin, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_admin.rsplit("/", 1)[0] + f"/{name}"
    open_database(url).dispose()  # migrated before the clock starts
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = datetime.now(timezone.utc)
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "radpulse", "--config", str(config), "--database-url", url, "run",
                               "--once", "--job", "collect"], env=env, stdout=subprocess.DEVNULL,
                              start_new_session=own_session) for _ in range(n)]
    ended: dict[int, datetime] = {}
    while len(ended) < n:  # when each one exits
        for p in procs:
            if p.pid not in ended and p.poll() is not None:
                assert p.returncode == 0, f"worker exited with {p.returncode}"
                ended[p.pid] = datetime.now(timezone.utc)
        time.sleep(0.02)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    db = open_database(url)
    with db.engine.connect() as conn:
        runs = conn.execute(select(CollectionRun.started_at, CollectionRun.finished_at, CollectionRun.process_id)
                            .where(CollectionRun.status == "success")).all()
        posts = conn.execute(select(func.count()).select_from(Post)).scalar()
    db.dispose()
    assert len(runs) == SOURCES and posts == SOURCES * PER_SOURCE, f"{len(runs)} sources, {posts} posts collected"
    span = (max(r.finished_at for r in runs) - min(r.started_at for r in runs)).total_seconds()
    per_worker = sorted(Counter(r.process_id for r in runs).values(), reverse=True)
    for pid, end in ended.items():  # where the time outside collection goes
        mine = [r for r in runs if r.process_id == pid]
        first, last = min(r.started_at for r in mine), max(r.finished_at for r in mine)
        print(f"    worker {pid}: first source {(first - started).total_seconds():.1f} s after the start, last one "
              f"done {(last - started).total_seconds():.1f} s, exit {(end - started).total_seconds():.1f} s")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    return took, span, per_worker, (after.ru_utime + after.ru_stime) - (cpu.ru_utime + cpu.ru_stime)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--posts", type=int, default=2000, help="posts the analyze job annotates (0: no analyze run)")
    parser.add_argument("--skip-workers", action="store_true", help="only the idle and analyze figures")
    parser.add_argument("--repeat", type=int, default=1, help="one-worker/two-worker pairs to run (median printed)")
    parser.add_argument("--same-session", action="store_true",
                        help="start the workers in this benchmark's session (see the docstring)")
    parser.add_argument("--pg", default=os.environ.get("RADPULSE_TEST_PG_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    print(f"load average {load()} on {os.cpu_count()} cores")
    idle(args.seconds, args.posts)
    if args.skip_workers:
        return
    instances, text_config = replay_instances()
    config = Path(tempfile.mkdtemp()) / "radpulse.toml"
    config.write_text(text_config)
    print(f"{SOURCES} Mastodon tags on two loopback instances, {PER_SOURCE} statuses each ({LIMIT} a page, 9 "
          f"requests, {LATENCY:g} s each), collected by `radpulse run --once --job collect` on PostgreSQL:")
    ratios = []
    try:
        for _ in range(args.repeat):
            (one, span1, _, cpu1), (two, span2, shares, cpu2) = (workers(args.pg, 1, config, not args.same_session),
                                                                  workers(args.pg, 2, config, not args.same_session))
            ratios.append(two / one)
            print(f"  one worker {one:.2f} s, two workers {two:.2f} s, ratio {two / one:.2f} (target <= 0.6; wall "
                  f"time, start-up included); collection span alone: one {span1:.2f} s, two {span2:.2f} s, ratio "
                  f"{span2 / span1:.2f}; sources per worker {shares}; workers' CPU {cpu1:.1f} s and {cpu2:.1f} s; "
                  f"load average {load()}")
    finally:
        for instance in instances:
            instance.stop()
    if len(ratios) > 1:
        print(f"median ratio of {len(ratios)}: {statistics.median(ratios):.2f}")

if __name__ == "__main__":
    main()
