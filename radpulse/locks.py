"""Who may run what: one `radpulse run` per SQLite file, one holder per job on PostgreSQL.

PostgreSQL: each job (a source's collection, analyze, the digest, ...) is guarded by a
session-level advisory lock, `pg_try_advisory_lock(key)` with a 64-bit key hashed from the job's
name, held on a connection of its own for the whole job. Any number of processes share the work:
the one that gets the lock runs the job, the others skip it this time. The server releases the
lock when the connection closes, so a process that dies holds nothing.

SQLite has one writer, so one scheduler per database file: `radpulse run` holds an exclusive
`flock` on `<database file>.run.lock` (which names its PID); a second one is refused with that
PID. The kernel drops the lock when its process dies, so a stale file is simply taken over. Within
the process, jobs are guarded by in-memory locks of the same names.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from sqlalchemy import text

from radpulse.db.engine import Database
from radpulse.errors import RadpulseError


class AlreadyRunning(RadpulseError):
    """Another `radpulse run` holds this SQLite database."""

    exit_code = 2


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (the same in every process and version)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


_LOCAL: dict[str, threading.Lock] = {}
_LOCAL_GUARD = threading.Lock()


@contextlib.contextmanager
def job_lock(db: Database, name: str) -> Iterator[bool]:
    """Hold the lock of job `name` while the block runs; yields False (and holds nothing) when
    another process or thread has it."""
    with _LOCAL_GUARD:
        local = _LOCAL.setdefault(name, threading.Lock())
    if not local.acquire(blocking=False):
        yield False
        return
    try:
        if db.dialect != "postgresql":
            yield True
            return
        key = lock_key(name)
        with db.engine.connect() as conn:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
    finally:
        local.release()


class ProcessLock:
    """The exclusive `radpulse run` lock of an SQLite database file (see the module docstring)."""

    def __init__(self, database_file: Path) -> None:
        self.path = Path(f"{database_file}.run.lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise AlreadyRunning(
                f"another `radpulse run` (PID {holder}) is already running on this SQLite database "
                f"({self.path.name[:-len('.run.lock')]}); SQLite has one writer, so only one scheduler may run on it.",
                hint="Stop the other one first, or move to PostgreSQL to run several (README: Scaling out).") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def process_lock(db: Database) -> ProcessLock | None:
    """The lock `radpulse run` must hold on this database (None: PostgreSQL, where any number run)."""
    if db.dialect != "sqlite" or not db.engine.url.database or db.engine.url.database == ":memory:":
        return None
    return ProcessLock(Path(db.engine.url.database))
