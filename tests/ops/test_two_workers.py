"""Two `radpulse run` on one database: on PostgreSQL two processes share the sources, collecting
from loopback Mastodon instances that replay the recorded payloads; SQLite refuses the second."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

from click.testing import CliRunner
from sqlalchemy import func, select

from radpulse.cli.main import cli
from radpulse.db.engine import open_database
from radpulse.db.models import CollectionRun, Post, RollupStaleDay
from radpulse.db.queries.rollups import totals
from radpulse.locks import ProcessLock, process_lock
from tests.collectors.mastodon import mastodon_replay as mr
from tests.conftest import _empty_pg

TAGS = [f"radiology{i}" for i in range(8)]
PER_TAG = 15  # three pages of 5


def worker_config(instances: list[mr.LoopbackInstance], limit: int = 5) -> str:
    """A radpulse.toml reading each instance's tags, nothing else."""
    timelines = "".join(f'[[mastodon.timelines]]\ninstance = "{i.base}"\nhashtags = {sorted(i.timelines)!r}\n'
                        for i in instances)
    off = "".join(f"[{s}]\nenabled = false\n" for s in ("x", "reddit", "bluesky", "pubmed", "crossref"))
    return (f"feeds = []\n{off}[mastodon]\nlimit = {limit}\n{timelines}"
            "[digest]\nenabled = false\n[alerts]\nspike_enabled = false\n")


def tag_statuses(fixtures_dir, tags: list[str], per_tag: int) -> dict[str, list[dict]]:  # type: ignore[no-untyped-def]
    """Distinct statuses per tag, built from the recorded one."""
    template = mr.recorded_status(fixtures_dir)
    return {tag: mr.make_statuses(template, per_tag, start=117020600000000000 + k * 10**9, tag=tag)
            for k, tag in enumerate(tags)}


def test_two_runs_on_postgresql_collect_every_item_once_and_never_one_source_at_once(pg_url, fixtures_dir, tmp_path):
    _empty_pg(pg_url)
    statuses = tag_statuses(fixtures_dir, TAGS, PER_TAG)
    # the first timeline request waits until the other process asks too: the two overlap
    meet = mr.Rendezvous(2)
    instances = [mr.LoopbackInstance(fixtures_dir, {t: statuses[t] for t in half}, latency=0.1, rendezvous=meet)
                 for half in (TAGS[:4], TAGS[4:])]
    config = tmp_path / "radpulse.toml"
    config.write_text(worker_config(instances))
    try:
        workers = [subprocess.Popen([sys.executable, "-m", "radpulse", "--config", str(config), "--database-url", pg_url,
                                     "run", "--once", "--job", "collect"], env={**os.environ, "PYTHONPATH": os.getcwd()},
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = [w.communicate(timeout=300) for w in workers]  # no deadlock: both end
    finally:
        for instance in instances:
            instance.stop()
    assert [w.returncode for w in workers] == [0, 0], [err[-3000:] for _, err in outputs]
    assert meet.arrived >= 2
    names = [f"mastodon:{i.base}#{t}" for i in instances for t in sorted(i.timelines)]
    outcomes = [json.loads(out)["collect"] for out, _ in outputs]
    for name in names:  # one process collected it, the other left it
        assert sorted(o[name] for o in outcomes) == ["skipped", "success"], name
    assert all("success" in o.values() for o in outcomes)  # both did part of the work
    for instance in instances:  # each timeline read from the top once: no source collected twice
        for tag, timeline in instance.timelines.items():
            assert sum(1 for q in timeline.calls if "max_id" not in q and "min_id" not in q) == 1, tag
    db = open_database(pg_url)
    with db.engine.connect() as conn:
        uris = list(conn.execute(select(Post.external_id)).scalars())
        runs = conn.execute(select(CollectionRun.source_name, CollectionRun.status, CollectionRun.process_id,
                                   CollectionRun.new)).all()
        stale = conn.execute(select(func.count()).select_from(RollupStaleDay)).scalar()
    posts_in_rollups = totals(db)["posts"]
    db.dispose()
    assert (stale, posts_in_rollups) == (0, len(TAGS) * PER_TAG)  # the rollups count every post, none left stale
    assert sorted(uris) == sorted(s["uri"] for tag in TAGS for s in statuses[tag])  # every item, once
    assert sorted((r.source_name, r.status, r.new) for r in runs) == sorted((n, "success", PER_TAG) for n in names)
    assert set(Counter(r.process_id for r in runs)) == {w.pid for w in workers}


def test_a_second_run_on_one_sqlite_file_is_refused_with_the_holders_pid(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    db = open_database(url)
    lock = process_lock(db)
    assert isinstance(lock, ProcessLock)
    lock.acquire()
    try:
        result = CliRunner().invoke(cli, ["--database-url", url, "run", "--once", "--job", "analyze"])
    finally:
        lock.release()
    assert result.exit_code == 2
    assert f"another `radpulse run` (PID {os.getpid()}) is already running" in result.output
    assert "PostgreSQL" in result.output
    # a lock file left by a process that died holds nothing: the next run takes it over
    (tmp_path / "r.db.run.lock").write_text("999999")
    again = CliRunner().invoke(cli, ["--database-url", url, "run", "--once", "--job", "analyze"])
    assert again.exit_code == 0, again.output
    db.dispose()
