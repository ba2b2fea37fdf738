"""SQLite rows straight into Arrow columns, through the ADBC SQLite driver (Apache Arrow's).

Reading a million rows through the sqlite3 module builds a Python object per value (27 columns:
27 million objects) before any of them is used; the ADBC driver fills Arrow buffers in C, so a
column becomes Python values only where Python needs them. SQLAlchemy still writes the SQL and
its parameters: the statement is compiled and its parameters bound exactly as for sqlite3 (caught
at `before_cursor_execute`, where SQLAlchemy hands them to the driver), then run by ADBC with the
same `?` parameters.

The driver infers each column's type from its first rows; a leading row of typed placeholders
(`''` for text, `0` for integers), dropped after the read, fixes the types whatever the first
posts hold. Anything the driver refuses (a value of another type in a column, a driver missing)
returns None, and the caller reads through SQLAlchemy as before.
"""

from __future__ import annotations

import logging
from urllib.parse import quote
from collections.abc import Mapping
from typing import Any

from sqlalchemy import event

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


def _driver_sql(db: Database, stmt: Any) -> tuple[str, tuple]:
    """The SQL text and positional parameters SQLAlchemy would hand to sqlite3 for `stmt`."""
    caught: dict[str, Any] = {}

    def catch(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> tuple:
        caught["sql"], caught["params"] = statement, tuple(parameters or ())
        return "SELECT 1 WHERE 0", ()

    with db.engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", catch, retval=True)
        conn.execute(stmt).close()
    return caught["sql"], caught["params"]


def read_table(db: Database, stmt: Any, kinds: Mapping[str, str]) -> Any | None:
    """`stmt` (a SELECT whose labelled columns are the keys of `kinds`, each "int" or "text") run on
    SQLite by ADBC, as one `pyarrow.Table`; None when this cannot be done (see the module docstring)."""
    if db.dialect != "sqlite" or not available():
        return None
    import adbc_driver_manager
    import adbc_driver_sqlite.dbapi as adbc

    path = db.engine.url.database
    if not path or path == ":memory:":
        return None
    sql, params = _driver_sql(db, stmt)
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
