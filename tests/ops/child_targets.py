"""Targets for radpulse.child_jobs.run_in_child in the tests (module-level, so they pickle), and
`python tests/ops/child_targets.py URL PIDFILE`: a parent whose child waits for ever (the test
kills that parent and watches the child go)."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from sqlalchemy import text

from radpulse.db.engine import Database

HELD = "held-by-a-child"


def explode(message: str) -> None:
    raise ValueError(message)


def explode_with_db(db: Database, settings: object) -> None:
    explode("analysis exploded")


def die() -> None:
    os._exit(3)  # no outcome sent: as if the kernel had killed it


def answer(value: dict) -> dict:  # type: ignore[type-arg]
    return {**value, "pid": os.getpid(), "heavy_modules": sorted({"sklearn", "pandas"} & set(sys.modules))}


def write_then_wait(db: Database, marker: str) -> None:
    """Insert a row in an open transaction, say so in `marker`, then wait for ever (until stopped)."""
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO job_states (name, consecutive_failures) VALUES (:n, 0)"), {"n": HELD})
        Path(marker).write_text(str(os.getpid()))
        threading.Event().wait()


def wait_forever(marker: str) -> None:
    Path(marker).write_text(str(os.getpid()))
    threading.Event().wait()


if __name__ == "__main__":
    from radpulse.child_jobs import run_in_child

    run_in_child("orphan", wait_forever, sys.argv[1])
