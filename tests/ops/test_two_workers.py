"""Two `radpulse run` on one database: PostgreSQL shares the sources, SQLite refuses the second."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from click.testing import CliRunner
from sqlalchemy import func, select

from radpulse.cli.main import cli
from radpulse.db.engine import open_database
from radpulse.db.models import CollectionRun, Post
from radpulse.locks import ProcessLock, process_lock
from tests.conftest import _empty_pg
from tests.ops.slow_worker import TAGS


def test_two_workers_on_postgresql_collect_each_source_once_never_at_the_same_time(pg_url, tmp_path):
    _empty_pg(pg_url)
    log = tmp_path / "holders.jsonl"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    workers = [subprocess.Popen([sys.executable, "tests/ops/slow_worker.py", pg_url, str(log)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=180) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err[-2000:] for _, err in outputs]
    held = [json.loads(line) for line in log.read_text().splitlines()]
    for tag in TAGS:  # never two holders of one source at once
        spans = sorted((h["start"], h["end"]) for h in held if h["source"] == f"x:{tag}")
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    assert sorted(h["source"] for h in held) == sorted(f"x:{t}" for t in TAGS)  # each source once
    assert len({h["pid"] for h in held}) == 2  # both did part of the work
    outcomes = [json.loads(out)["collect"] for out, _ in outputs]
    for tag in TAGS:
        assert sorted(o[f"x:{tag}"] for o in outcomes) == ["skipped", "success"]
    db = open_database(pg_url)
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Post)).scalar() == len(TAGS) * 12  # every item once
        per_source = conn.execute(select(CollectionRun.source_name, func.count()).group_by(CollectionRun.source_name)).all()
    db.dispose()
    assert all(n == 1 for _, n in per_source) and len(per_source) == len(TAGS)


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
