"""Stopping `radpulse run` with SIGTERM while it collects: the batch in hand is stored with its
cursor (nothing half written), the process exits within 10 s holding no lock, and the next run
continues from the cursors and stores every item once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from click.testing import CliRunner
from sqlalchemy import func, select

from radpulse.cli.main import cli
from radpulse.collectors import registry
from radpulse.db.models import CollectionRun, Post, Source, SourceCursor
from tests.ops.stoppable_worker import PAGES, PER_PAGE, PagedX

TAGS = ["#stopa", "#stopb"]
#: everything but the job under test off: no other source, digest, alert, sweep or health port
QUIET = """[reddit]
enabled = false
[mastodon]
enabled = false
[bluesky]
enabled = false
[pubmed]
enabled = false
[crossref]
enabled = false
[schedule]
jitter_seconds = 0
[digest]
enabled = false
[alerts]
spike_enabled = false
[refresh]
deletion_sweep_days = 0
[health]
port = 0
"""
CONFIG = f"""feeds = []
[x]
hashtags = {TAGS!r}
""" + QUIET


def _wait_for(predicate, seconds: float) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < end, "timed out"
        _pause(0.1)


def _pause(seconds: float) -> None:
    import threading

    threading.Event().wait(seconds)


def _stored(db) -> dict[str, tuple[int, dict | None]]:  # type: ignore[no-untyped-def]
    """source name -> (posts stored for it, its cursor)."""
    with db.engine.connect() as conn:
        out = {}
        for tag in TAGS:
            n = conn.execute(select(func.count()).select_from(Post).where(Post.external_id.like(f"{tag}-%"))).scalar()
            cursor = conn.execute(select(SourceCursor.cursor).join(Source, Source.id == SourceCursor.source_id)
                                  .where(Source.name == f"x:{tag}")).scalar()
            out[f"x:{tag}"] = (n, cursor)
        return out


def _running(db) -> int:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(CollectionRun)
                            .where(CollectionRun.status == "running", CollectionRun.task == "collect")).scalar()


def test_sigterm_during_collection_stores_whole_batches_exits_fast_and_the_next_run_resumes(
        db, db_url, tmp_path, monkeypatch):
    config = tmp_path / "radpulse.toml"
    config.write_text(CONFIG)
    root = os.getcwd()
    proc = subprocess.Popen([sys.executable, "tests/ops/stoppable_worker.py", "0.2", "--config", str(config),
                             "--database-url", db_url, "run"], env={**os.environ, "PYTHONPATH": root},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: _running(db) == len(TAGS), 60)  # both sources are being collected
        _pause(1.5)  # a few pages in, none of them committed yet (commit_items gathers them)
        stopped_at = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - stopped_at
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    assert took < 10, f"took {took:.1f} s to stop"
    assert "stopping" in err
    stored = _stored(db)
    for name, (n, cursor) in stored.items():
        assert cursor is not None, name
        assert n == PER_PAGE * (cursor["page"] + 1), (name, n, cursor)  # whole pages, cursor on the last
        assert 0 < n < PAGES * PER_PAGE  # stopped in the middle
    with db.engine.connect() as conn:
        runs = conn.execute(select(CollectionRun.source_name, CollectionRun.status, CollectionRun.new,
                                   CollectionRun.cursor_after).where(CollectionRun.task == "collect")).all()
    assert sorted((r.source_name, r.status) for r in runs) == [(f"x:{t}", "stopped") for t in TAGS]
    assert {r.source_name: (r.new, r.cursor_after) for r in runs} == stored

    # at once: a second run can start (no lock left) and continues from the cursors
    registry._load()
    monkeypatch.setitem(registry._REGISTRY, "x", PagedX)
    monkeypatch.setattr(PagedX, "delay", 0.0)
    again = CliRunner().invoke(cli, ["--config", str(config), "--database-url", db_url, "run", "--once",
                                     "--job", "collect"])
    assert again.exit_code == 0, again.output
    assert '"success"' in again.output
    with db.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(Post)).scalar()
        distinct = conn.execute(select(func.count(func.distinct(Post.external_id)))).scalar()
        resumed = conn.execute(select(CollectionRun.source_name, CollectionRun.fetched)
                               .where(CollectionRun.status == "success")).all()
    assert total == distinct == len(TAGS) * PAGES * PER_PAGE  # every item once
    assert {r.source_name: r.fetched for r in resumed} == {
        name: PAGES * PER_PAGE - n for name, (n, _) in stored.items()}  # only what was left was read


ANALYZE_ONLY = """feeds = []
[x]
enabled = false
""" + QUIET
#: thirty batches of 1,000: the models annotate several thousand posts a second, so the stop must
#: find work still to do however fast the machine is (1,500 posts were all done before the signal)
POSTS = 30_000


def test_sigterm_during_analysis_stops_its_child_rolls_back_the_batch_and_the_next_run_finishes(tmp_path):
    import psutil

    from radpulse.db.engine import open_database
    from radpulse.db.models import Annotation
    from radpulse.db.store import upsert_posts
    from radpulse.records import PostRecord
    from tests.core.test_runner import T0

    url = f"sqlite:///{tmp_path / 'r.db'}"
    db = open_database(url)
    words = ["CT", "MRI", "chest", "stroke", "AI", "résidents", "burnout", "mammography", "PE", "liver"]
    with db.engine.begin() as conn:
        upsert_posts(conn, [PostRecord("x", str(i), f"{words[i % 10]} {words[i * 7 % 10]} case {i} #radiology", T0)
                            for i in range(POSTS)], now=T0)
    config = tmp_path / "radpulse.toml"
    config.write_text(ANALYZE_ONLY)

    def annotated() -> int:
        with db.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(Annotation)).scalar()

    proc = subprocess.Popen([sys.executable, "-m", "radpulse", "--config", str(config), "--database-url", url, "run"],
                            env={**os.environ, "PYTHONPATH": os.getcwd()}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: annotated() > 0, 300)  # analysis runs 5 s after the start, in a child
        children = psutil.Process(proc.pid).children()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    # exit code 0: every job stopped within the stop budget (else `radpulse run` exits 1)
    assert proc.returncode == 0, err[-3000:]
    assert "stopping" in err and "did not stop in time" not in err
    # the analysis child is joined before `run` exits; multiprocessing's resource tracker (also a
    # child) leaves when it sees its parent gone, a moment later: give both a few seconds
    _, alive = psutil.wait_procs(children, timeout=10)
    assert [c.pid for c in alive if c.status() != psutil.STATUS_ZOMBIE] == []
    done = annotated()
    assert 0 < done < POSTS and done % 1000 == 0  # whole batches: the one in hand was rolled back

    again = CliRunner().invoke(cli, ["--config", str(config), "--database-url", url, "run", "--once", "--job", "analyze"])
    assert again.exit_code == 0, again.output
    assert annotated() == POSTS and json.loads(again.output)["analyze"]["new"] == POSTS - done
    db.dispose()
