"""Heavy jobs run in a child process (radpulse/child_jobs.py): outcomes and failures come back,
a stop or a deadline ends the child and rolls back its transaction, an orphaned child ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select

from radpulse import scheduler as sched
from radpulse.child_jobs import run_in_child, with_database
from radpulse.db.models import Annotation, JobState, Post
from radpulse.errors import JobFailed, JobStopped, JobTimeout
from radpulse.job_states import job_states
from tests.ops import child_targets


def _wait_for(predicate, seconds: float = 120) -> None:  # type: ignore[no-untyped-def]
    pause = threading.Event()
    for _ in range(int(seconds / 0.1)):
        if predicate():
            return
        pause.wait(0.1)  # time.sleep is patched in tests
    assert predicate(), "timed out"


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_the_result_comes_back_from_another_process():
    out = run_in_child("answer", child_targets.answer, {"new": 3})
    assert out["new"] == 3 and out["pid"] != os.getpid()
    assert _gone(out["pid"])


def test_an_exception_in_the_child_is_raised_with_its_type_and_message():
    with pytest.raises(JobFailed, match=r"^ValueError: the model file is corrupt$"):
        run_in_child("explode", child_targets.explode, "the model file is corrupt")


def test_a_child_that_dies_without_an_outcome_is_a_failure_with_its_exit_code():
    with pytest.raises(JobFailed, match=r"the die process ended without an outcome \(exit code 3\)"):
        run_in_child("die", child_targets.die)


@pytest.mark.parametrize("how", ["stop", "deadline"])
def test_a_stop_or_the_deadline_ends_the_child_and_rolls_back_its_transaction(db, db_url, tmp_path, how):
    marker = tmp_path / "in-transaction"
    stop = threading.Event()
    if how == "stop":  # set once the child holds its uncommitted row
        threading.Thread(target=lambda: (_wait_for(marker.exists), stop.set()), daemon=True).start()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_in_child("writer", with_database, child_targets.write_then_wait, db_url, str(marker), stop=stop,
                         deadline=None if how == "stop" else _after_marker(marker))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    runner.join(120)
    assert not runner.is_alive()
    [error] = errors
    assert isinstance(error, JobStopped if how == "stop" else JobTimeout), error
    assert "rolled back" in str(error)
    assert _gone(int(marker.read_text()))
    with db.engine.connect() as conn:  # the row the child had not committed is not there
        assert conn.execute(select(func.count()).select_from(JobState)
                            .where(JobState.name == child_targets.HELD)).scalar() == 0


def _after_marker(marker: Path) -> float:
    """A deadline that has passed once the child is inside its transaction: run_in_child asks
    `time.monotonic() > deadline`, which Python answers with this float subclass's `__lt__`."""
    import time

    class Deadline(float):
        def __lt__(self, other: float) -> bool:
            return marker.exists()

    return Deadline(time.monotonic())


def test_a_child_whose_parent_was_killed_stops_by_itself(tmp_path):
    marker = tmp_path / "child.pid"
    parent = subprocess.Popen([sys.executable, "tests/ops/child_targets.py", str(marker)],
                              env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        _wait_for(marker.exists)
        child = int(marker.read_text())
        assert psutil.Process(child).ppid() == parent.pid
        parent.send_signal(signal.SIGKILL)
        parent.wait(30)
        _wait_for(lambda: _gone(child))
    finally:
        if parent.poll() is None:
            parent.kill()


def test_a_failing_child_job_is_recorded_with_the_childs_error(tmp_path):
    from tests.conftest import make_settings

    url = f"sqlite:///{tmp_path / 'r.db'}"
    failing = sched._locked("explode", child_targets.explode_with_db, in_child=True)
    outcome = sched.run_job("explode", failing, make_settings(), url)
    assert outcome == {"status": "failed", "error": "ValueError: analysis exploded"}
    state = job_states(sched.shared_database(url))["explode"]
    assert (state["last_status"], state["last_error"], state["consecutive_failures"]) == (
        "failed", "ValueError: analysis exploded", 1)


SCHEDULER = """
import json, sys
from radpulse.scheduler import analyze_job, run_job, shared_database
from tests.conftest import make_settings
outcome = run_job("analyze", analyze_job, make_settings(), sys.argv[1])
print(json.dumps({"outcome": outcome, "heavy_modules": sorted({"sklearn", "pandas"} & set(sys.modules))}))
"""


def test_the_scheduler_analyzes_in_a_child_and_never_loads_the_models_itself(pg_url):
    """On PostgreSQL, where this process holds the job's advisory lock while its child works."""
    from radpulse.db.engine import open_database
    from radpulse.db.store import upsert_posts
    from radpulse.records import PostRecord
    from tests.conftest import _empty_pg
    from tests.core.test_runner import T0

    _empty_pg(pg_url)
    db_url, db = pg_url, open_database(pg_url)
    with db.engine.begin() as conn:
        upsert_posts(conn, [PostRecord("x", str(i), f"CT of the chest number {i} #radiology", T0) for i in range(5)],
                     now=T0)
    proc = subprocess.run([sys.executable, "-c", SCHEDULER, db_url], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["outcome"]["new"] == 5
    assert report["heavy_modules"] == []  # pandas and scikit-learn stayed in the child
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Annotation)).scalar() == 5
        assert conn.execute(select(func.count()).select_from(Post)).scalar() == 5
    db.dispose()
