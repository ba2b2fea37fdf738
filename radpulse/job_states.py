"""Each scheduled job's last outcome and failures in a row (`job_states`), shared by every process.

`radpulse status`, `/healthz` and the operator alerts read it. Crossing `[alerts]
failures_before_alert` failures in a row, and the first success after that, are decided by one
conditional UPDATE each, so with several processes exactly one of them tells the operators.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update

from radpulse.db.engine import Database
from radpulse.db.models import JobState
from radpulse.db.store import insert_for
from radpulse.records import utcnow


def record_start(db: Database, name: str, holder: str, now: dt.datetime | None = None) -> None:
    """The job `name` started in process `holder`."""
    now = now or utcnow()
    with db.engine.begin() as conn:
        ins = insert_for(conn, JobState.__table__)
        conn.execute(ins.values(name=name, last_started_at=now, holder=holder, consecutive_failures=0)
                     .on_conflict_do_update(index_elements=["name"],
                                            set_={"last_started_at": now, "holder": holder}))


def record_finish(db: Database, name: str, ok: bool, error: str | None, *, alert_after: int,
                  now: dt.datetime | None = None) -> str | None:
    """Record how job `name` ended; 'failing' when it just reached `alert_after` failures in a row
    (the operators are to be told), 'recovered' when it worked after such an alert, else None."""
    now = now or utcnow()
    with db.engine.begin() as conn:
        values: dict[str, Any] = {"last_finished_at": now, "last_status": "success" if ok else "failed",
                                  "last_error": None if ok else error}
        if ok:
            values.update(last_success_at=now, consecutive_failures=0)
        else:
            values["consecutive_failures"] = JobState.consecutive_failures + 1
        conn.execute(update(JobState).where(JobState.name == name).values(**values))
        if ok:
            told = conn.execute(update(JobState).where(JobState.name == name, JobState.alerted_at.is_not(None))
                                .values(alerted_at=None)).rowcount
            return "recovered" if told else None
        told = conn.execute(update(JobState).where(JobState.name == name, JobState.alerted_at.is_(None),
                                                   JobState.consecutive_failures >= alert_after)
                            .values(alerted_at=now)).rowcount
        return "failing" if told else None


def job_states(db: Database) -> dict[str, dict[str, Any]]:
    """name -> the stored state of every job that has run."""
    with db.engine.connect() as conn:
        return {r.name: dict(r._mapping) for r in conn.execute(select(JobState.__table__))}
