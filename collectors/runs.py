"""Run bookkeeping: a run's summary, its row in `collection_runs`, job budgets, interrupted runs.

Each run records the process that runs it (host and pid). A process killed mid-run leaves its
run "running"; the next collection on that host finds the process gone and marks the run
"interrupted" with the reason, and `radpulse status` lists such runs (`interrupted_runs` only
reads). A scheduled job's time budget is a deadline in a context variable (`JOB_DEADLINE`) that
the runner checks after every stored batch and before every source (`check_budget`).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select, update

from radpulse.records import utcnow
from radpulse.db.engine import Database, open_database
from radpulse.db.models import CollectionRun
from radpulse.errors import JobTimeout

log = logging.getLogger(__name__)

#: when the scheduled job running in this context must stop (time.monotonic; None: no budget)
JOB_DEADLINE: ContextVar[float | None] = ContextVar("radpulse_job_deadline", default=None)


def check_budget(what: str) -> None:
    """Raise JobTimeout when the scheduled job running now has spent its time budget."""
    deadline = JOB_DEADLINE.get()
    if deadline is not None and time.monotonic() > deadline:
        raise JobTimeout(f"{what}: stopped because the scheduled job ran past its time budget.",
                         hint="Raise [schedule] job_budget_minutes or track fewer sources; the next "
                         "run resumes after the last stored batch.")


@dataclass
class RunSummary:
    """How one source's collection went (what `radpulse collect` prints)."""

    source: str
    platform: str
    status: str = "running"
    fetched: int = 0
    new: int = 0
    updated: int = 0
    failed: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    cursor: dict[str, Any] | None = None
    run_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("success", "warning")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def start_run(db: Database, name: str, source_id: int | None, task: str) -> int:
    """Record the start of a collection, refresh or import run (with this process); its id."""
    with db.session() as s:
        run = CollectionRun(source_id=source_id, source_name=name, task=task, started_at=utcnow(), status="running",
                            process_id=os.getpid(), host=socket.gethostname()[:255])
        s.add(run)
        s.flush()
        return run.id


def record_job_failure(database_url: str, job: str, reason: str) -> None:
    """Record a scheduled job that overran its budget as a failed run named `job:<name>`."""
    db = open_database(database_url)
    try:
        summary = RunSummary(source=f"job:{job}", platform="scheduler", status="failed", error=reason)
        summary.run_id = start_run(db, summary.source, None, job)
        finish_run(db, summary)
    finally:
        db.dispose()


def _process_gone(pid: int | None, host: str | None) -> bool:
    """Whether the process that started a run on this host has ended (killed or crashed)."""
    if pid is None or host != socket.gethostname()[:255] or pid == os.getpid():
        return False  # another machine's runs are left to it; this process's runs are alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _orphaned(db: Database) -> list[Any]:
    with db.engine.connect() as conn:
        rows = conn.execute(select(CollectionRun.id, CollectionRun.source_name, CollectionRun.started_at,
                                   CollectionRun.process_id, CollectionRun.host)
                            .where(CollectionRun.status == "running")).all()
    return [r for r in rows if _process_gone(r.process_id, r.host)]


def _interrupted_reason(pid: int | None, host: str | None) -> str:
    return (f"interrupted: the process running it (pid {pid} on {host}) ended before the run finished "
            "(killed or crashed); the next run resumes after the last stored batch")


def mark_interrupted_runs(db: Database) -> int:
    """Mark runs whose process is gone as "interrupted" (done when collection starts); how many."""
    orphans = _orphaned(db)
    with db.engine.begin() as conn:
        for r in orphans:
            conn.execute(update(CollectionRun)
                         .where(CollectionRun.id == r.id, CollectionRun.status == "running")
                         .values(status="interrupted", finished_at=utcnow(),
                                 error=_interrupted_reason(r.process_id, r.host)))
    if orphans:
        log.warning("marked %d run(s) interrupted: their process ended while they ran", len(orphans))
    return len(orphans)


def interrupted_runs(db: Database, limit: int = 20) -> list[dict[str, Any]]:
    """Runs that were interrupted (newest first), including runs whose process is gone but that no
    start has marked yet. Only reads (for `radpulse status`)."""
    orphans = {r.id for r in _orphaned(db)}
    with db.engine.connect() as conn:
        rows = conn.execute(select(CollectionRun.id, CollectionRun.source_name, CollectionRun.started_at,
                                   CollectionRun.error, CollectionRun.process_id, CollectionRun.host)
                            .where((CollectionRun.status == "interrupted") | CollectionRun.id.in_(orphans))
                            .order_by(CollectionRun.id.desc()).limit(limit)).all()
    return [{"run_id": r.id, "source": r.source_name, "started_at": r.started_at.isoformat(timespec="seconds"),
             "reason": r.error if r.id not in orphans else _interrupted_reason(r.process_id, r.host)}
            for r in rows]


def finish_run(db: Database, summary: RunSummary) -> None:
    """Record how a run ended, with its counts, cursor and error."""
    with db.engine.begin() as conn:
        conn.execute(
            update(CollectionRun)
            .where(CollectionRun.id == summary.run_id)
            .values(status=summary.status, finished_at=utcnow(), error=summary.error,
                    warnings=summary.warnings, cursor_after=summary.cursor, fetched=summary.fetched,
                    new=summary.new, updated=summary.updated, failed=summary.failed)
        )
