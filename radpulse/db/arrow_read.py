"""SQLite rows straight into Arrow columns, through the ADBC SQLite driver (Apache Arrow's).

Reading a million rows through the sqlite3 module builds a Python object per value (27 columns:
27 million objects) before any of them is used; the ADBC driver fills Arrow buffers in C, so a
column becomes Python values only where Python needs them. SQLAlchemy still writes the SQL and
its parameters (`statement_sql`: compiled and bound exactly as for sqlite3, caught at
`before_cursor_execute`), and `read_sql` runs them with ADBC.

**One copy of SQLite per process and file.** The ADBC driver carries its own copy of SQLite,
beside the one the sqlite3 module uses. Two copies in one process must never open the same
database file: POSIX advisory locks belong to the process, so when one copy closes the file
the locks the other holds are gone, and each copy takes the other's connections for none at all
when it checks whether it is the first to open a WAL database (https://sqlite.org/howtocorrupt.html,
2.2.1). A browser test saw "database disk image is malformed" when a dashboard page read through
ADBC beside its SQLAlchemy connections. So `read_sql` runs only in worker processes that open the
file with ADBC alone (`radpulse.exports.parallel`): the calling process writes the SQL
(`statement_sql`, sqlite3's copy), the worker reads (ADBC's copy).

The driver infers each column's type from its first rows; a leading row of typed placeholders
(`''` for text, `0` for integers), dropped after the read, fixes the types whatever the first
rows hold. Anything the driver refuses returns None, and the caller reads through SQLAlchemy.
"""

from __future__ import annotations

import logging
import os
import threading
from urllib.parse import quote
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the helper process imports this module: keep it light
    from radpulse.db.engine import Database

log = logging.getLogger(__name__)

#: rows per Arrow record batch the driver builds (its default, 1,024, costs a batch per thousand rows)
BATCH_ROWS = 65_536


def available() -> bool:
    try:
        import adbc_driver_sqlite.dbapi  # noqa: F401  (pyflakes: only whether it imports)
    except ImportError:
        return False
    return True


def statement_sql(db: Database, stmt: Any) -> tuple[str, tuple]:
    """The SQL text and positional parameters SQLAlchemy would hand to sqlite3 for `stmt` (nothing
    is run: the statement is swapped for an empty one at `before_cursor_execute`)."""
    from sqlalchemy import event

    caught: dict[str, Any] = {}

    def catch(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> tuple:
        caught["sql"], caught["params"] = statement, tuple(parameters or ())
        return "SELECT 1 WHERE 0", ()

    with db.engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", catch, retval=True)
        conn.execute(stmt).close()
    return caught["sql"], caught["params"]


def read_sql(path: str, sql: str, params: tuple, kinds: Mapping[str, str]) -> Any | None:
    """`sql` (a SELECT whose columns, in order, are the keys of `kinds`, each "int" or "text") run
    by ADBC on the SQLite file at `path`, read-only, as one `pyarrow.Table`; None when the driver
    is missing or refuses. Only in a process that has no sqlite3 connection to that file (see the
    module docstring)."""
    if not path or path == ":memory:" or not available():
        return None
    import adbc_driver_manager
    import adbc_driver_sqlite.dbapi as adbc

    typed = ", ".join(f"{'0' if kind == 'int' else chr(39) * 2} AS \"{name}\"" for name, kind in kinds.items())
    try:
        conn = adbc.connect(f"file:{quote(path)}?mode=ro")
        try:
            cursor = conn.cursor()
            try:
                cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(BATCH_ROWS)})
                cursor.execute(f"SELECT {typed} UNION ALL {sql}", params)
                table = cursor.fetch_arrow_table()
            finally:
                cursor.close()
        finally:
            conn.close()
    except (adbc_driver_manager.Error, OSError) as exc:
        log.debug("ADBC read refused (%s); reading through SQLAlchemy", exc)
        return None
    return table.slice(1)


# -- reads for a process that holds sqlite3 connections (the dashboard) -------------------------
#
# Such a process must not open the file with ADBC's copy of SQLite, so it hands the read to one
# helper process that opens the file with ADBC alone, started from a fork server (safe beside
# the web server's threads) and kept for the next reads; the table comes back pickled (Arrow's
# buffers, not a Python object per value).

_HELPER: Any = None
_HELPER_PID = 0  # the process that started it: a forked child starts its own
_HELPER_LOCK = threading.Lock()


def _helper() -> Any:
    global _HELPER, _HELPER_PID
    with _HELPER_LOCK:
        if _HELPER is None or _HELPER_PID != os.getpid():
            _HELPER_PID = os.getpid()
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            if "forkserver" in methods:
                context.set_forkserver_preload([__name__, "adbc_driver_sqlite.dbapi", "pyarrow"])
            _HELPER = ProcessPoolExecutor(max_workers=1, mp_context=context)
        return _HELPER


def read_sql_in_helper(path: str, sql: str, params: tuple, kinds: Mapping[str, str]) -> Any | None:
    """`read_sql` run in the helper process (see above); None when the driver is missing or
    refuses, or the helper cannot run (then read through SQLAlchemy)."""
    if not path or path == ":memory:" or not available():
        return None
    from concurrent.futures.process import BrokenProcessPool

    global _HELPER
    try:
        return _helper().submit(read_sql, path, sql, params, dict(kinds)).result()
    except (BrokenProcessPool, OSError, RuntimeError) as exc:
        log.warning("the ADBC reader process failed (%s); reading through SQLAlchemy", exc)
        with _HELPER_LOCK:
            _HELPER = None
        return None


def read_statement_in_helper(db: Database, stmt: Any, kinds: Mapping[str, str]) -> Any | None:
    """`stmt` (its labelled columns the keys of `kinds`) read into Arrow by the helper process when
    `db` is SQLite: `statement_sql` here, `read_sql` there; None elsewhere or when it cannot be done."""
    if db.dialect != "sqlite" or not available():
        return None
    sql, params = statement_sql(db, stmt)
    return read_sql_in_helper(db.engine.url.database or "", sql, params, kinds)


def warm_helper() -> None:
    """Start the helper process now (its fork server imports pyarrow and the driver, about a
    second), so that the first read that needs it does not wait for that."""
    if available():
        try:
            _helper().submit(int).result()
        except Exception as exc:  # noqa: BLE001 - a read falls back to SQLAlchemy if it stays broken
            log.warning("the ADBC reader process did not start (%s)", exc)
