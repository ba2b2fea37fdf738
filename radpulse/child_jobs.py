"""Heavy jobs in a child process, so that the long-running scheduler stays small.

analyze, the digest and the spike alerts load the analysis models, pandas and scikit-learn:
about 250 MB that a Python process never gives back once loaded. `radpulse run` runs them with
`run_in_child`, in a process started with multiprocessing's 'spawn' context (a fresh
interpreter that inherits no connection, lock or thread of the scheduler), so that memory goes
away with the child and the scheduler stays near 80 MB between jobs.

The caller holds the job's lock (radpulse/locks.py) while the child runs, so a job is as
exclusive as when it ran in-process. The child

- runs `target(*args)` and sends back its result, or its failure (type and message, and the
  traceback, which the parent logs), through a pipe;
- ignores SIGINT (Ctrl+C reaches the whole process group: the parent decides) and on SIGTERM
  raises `Stopped`, so the transaction in flight rolls back before it exits;
- stops by itself when its parent is gone (killed with SIGKILL: the locks went with it).

The parent waits, and stops the child (SIGTERM, then SIGKILL after `STOP_SECONDS`) when
radpulse is stopping (`stop` is set) or the job's time budget (`deadline`) has run out.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from radpulse.errors import JobFailed, JobStopped, JobTimeout

log = logging.getLogger(__name__)

#: how long a child has to roll back and exit after SIGTERM before it is killed
STOP_SECONDS = 5.0
#: how often the parent looks at `stop` and the deadline, and the child at its parent
POLL_SECONDS = 0.2


class Stopped(BaseException):
    """Raised in the child by SIGTERM (a BaseException, so no `except Exception` swallows it)."""


def run_in_child(label: str, target: Callable[..., Any], *args: Any, stop: threading.Event | None = None,
                 deadline: float | None = None) -> Any:
    """`target(*args)` in a spawned child process: its result, else JobFailed (it raised or
    died), JobStopped (`stop` was set, or the child was sent SIGTERM) or JobTimeout (the
    `deadline`, on time.monotonic's clock, passed). `target` and `args` must pickle (`target` a
    module-level function)."""
    ctx = multiprocessing.get_context("spawn")
    reader, writer = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_main, name=f"radpulse-{label}",
                       args=(writer, target, args, os.getpid(), logging.getLogger().level))
    proc.start()
    writer.close()  # the child has its copy: EOF on `reader` when the child is gone
    reply, why = None, None
    try:
        while reply is None and why is None:
            ready = wait([reader, proc.sentinel], timeout=POLL_SECONDS)
            if ready:
                reply = _receive(reader) or ("died",)
            elif stop is not None and stop.is_set():
                why = "stop"
            elif deadline is not None and time.monotonic() > deadline:
                why = "budget"
        if why is not None:
            proc.terminate()
            if wait([reader], timeout=STOP_SECONDS):
                reply = _receive(reader)
    finally:
        proc.join(STOP_SECONDS)
        if proc.is_alive():
            proc.kill()
            proc.join()
        reader.close()
    return _outcome(label, reply, why, proc.exitcode)


def _outcome(label: str, reply: tuple[Any, ...] | None, why: str | None, exitcode: int | None) -> Any:
    if reply is not None and reply[0] == "ok":
        return reply[1]
    if why == "budget":
        raise JobTimeout(f"the {label} job ran past its time budget ([schedule] job_budget_minutes) and was "
                         "stopped; what it had not committed was rolled back, the next run does the rest")
    if why == "stop" or (reply is not None and reply[0] == "stopped"):
        raise JobStopped(f"{label} stopped (SIGTERM or SIGINT) before it finished; what it had not committed "
                           "was rolled back, the next run does the rest")
    if reply is not None and reply[0] == "error":
        log.error("radpulse %s failed in its child process:\n%s", label, reply[2])
        raise JobFailed(reply[1])
    raise JobFailed(f"the {label} process ended without an outcome ({_exit_reason(exitcode)})")


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        return f"killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
    return f"exit code {code}"


def _receive(reader: Connection) -> tuple[Any, ...] | None:
    try:
        return reader.recv() if reader.poll() else None
    except (EOFError, OSError):
        return None


def _child_main(conn: Connection, target: Callable[..., Any], args: tuple[Any, ...], parent: int,
                log_level: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _raise_stopped)
    logging.basicConfig(level=log_level, format="%(levelname)s %(name)s: %(message)s")
    threading.Thread(target=_watch_parent, args=(parent,), name="radpulse-parent-watch", daemon=True).start()
    try:
        reply: tuple[Any, ...] = ("ok", target(*args))
    except Stopped:
        reply = ("stopped",)
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which records it
        reply = ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc())
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the outcome is in hand: send it whatever comes
    try:
        conn.send(reply)
    except (OSError, ValueError):  # the parent is gone
        pass
    finally:
        conn.close()


def _raise_stopped(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: the rollback runs undisturbed
    raise Stopped


def _watch_parent(parent: int) -> None:
    """Stop this child when its parent is gone (re-parented), then exit if it does not stop."""
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(STOP_SECONDS)
    os._exit(1)


def with_database(work: Callable[..., Any], url: str, *args: Any) -> Any:
    """`work(db, *args)` on the database at `url`, opened in this process (a child's target)."""
    from radpulse.db.engine import open_database

    db = open_database(url, migrate=False)  # the parent opened it, so it is migrated
    try:
        return work(db, *args)
    finally:
        db.dispose()
