"""A run whose process was killed is marked interrupted at the next start and shown by `status`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from click.testing import CliRunner
from sqlalchemy import select, text

from radpulse.cli.main import cli
from radpulse.collectors.runner import collect_sources, interrupted_runs, start_run
from radpulse.db.engine import open_database, upgrade
from radpulse.db.models import CollectionRun
from tests.conftest import make_settings

CHILD = """
import sys, time
from radpulse.db.engine import open_database
from radpulse.collectors.runner import start_run
db = open_database(sys.argv[1])
print(start_run(db, "feed:killed", None, "collect"), flush=True)
time.sleep(600)
"""


def killed_run(db_url: str) -> tuple[int, int]:
    """(run id, pid) of a run started by a process that was then killed with SIGKILL."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, db_url], stdout=subprocess.PIPE, text=True)
    run_id = int(child.stdout.readline())
    os.kill(child.pid, signal.SIGKILL)
    child.wait(30)
    return run_id, child.pid


def status_of(db, run_id: int) -> tuple[str, str | None]:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        row = conn.execute(select(CollectionRun.status, CollectionRun.error).where(CollectionRun.id == run_id)).one()
    return row.status, row.error


def test_a_killed_run_is_marked_interrupted_at_the_next_start(db, db_url):
    run_id, pid = killed_run(db_url)
    alive = start_run(db, "feed:alive", None, "collect")  # this process: still running
    assert status_of(db, run_id) == ("running", None)

    shown = interrupted_runs(db)  # status sees it before any start has marked it, and writes nothing
    assert [r["run_id"] for r in shown] == [run_id] and f"pid {pid}" in shown[0]["reason"]
    assert status_of(db, run_id) == ("running", None)

    collect_sources(db, make_settings(), [])  # the next start
    state, error = status_of(db, run_id)
    assert state == "interrupted" and f"pid {pid}" in error and "killed or crashed" in error
    assert status_of(db, alive)[0] == "running"
    assert [r["run_id"] for r in interrupted_runs(db)] == [run_id]


def test_status_shows_interrupted_runs(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    open_database(url).dispose()
    run_id, _ = killed_run(url)
    runner = CliRunner()
    result = runner.invoke(cli, ["--database-url", url, "status"])
    assert result.exit_code == 0, result.output
    assert "Interrupted run: feed:killed" in result.output
    data = json.loads(runner.invoke(cli, ["--database-url", url, "status", "--json"]).output)
    assert [r["run_id"] for r in data["interrupted_runs"]] == [run_id]


def test_migration_0004n_keeps_existing_runs(db_url):
    db = open_database(db_url, migrate=False)
    upgrade(db.engine, "0005r")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO collection_runs (source_name, task, started_at, status, fetched, new, updated, "
                          "failed, warnings) VALUES ('x:#a', 'collect', CURRENT_TIMESTAMP, 'running', 3, 2, 1, 0, '[]')"))
    db.dispose()
    db = open_database(db_url)
    with db.engine.connect() as conn:
        row = conn.execute(select(CollectionRun.source_name, CollectionRun.fetched, CollectionRun.process_id,
                                  CollectionRun.host)).one()
    assert tuple(row) == ("x:#a", 3, None, None)
    assert interrupted_runs(db) == []  # a run without a process is never guessed to be dead
    db.dispose()
