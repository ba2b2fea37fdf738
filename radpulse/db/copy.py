"""`radpulse db copy`: move a radpulse database (the embedded SQLite, or any URL) to PostgreSQL.

The target must be an empty PostgreSQL database; it is migrated to the newest schema first.
Tables are copied in dependency order (parents before the rows that refer to them), in batches
read by keyset on the primary key and written with PostgreSQL's COPY, one transaction per batch,
ids kept as they are. Sequences are set past the copied ids at the end, and every table's row
count is compared with the source's.

While copying, the target's plain indexes and foreign keys are set aside (dropped, their exact
definitions kept in `radpulse_copy_deferred`) and made again at the end, each in one pass: that
is several times less work for PostgreSQL than updating them row by row. The source's own
constraints keep its rows consistent; unique keys and primary keys stay in place throughout.

Resuming: while a copy is under way the target holds a small table, `radpulse_copy_state`,
naming the source. Running the same copy again continues each table after the rows already
there: a table's committed batches are a prefix of the source's rows in key order, so the
source's key at that offset is where the previous run stopped (and it must be in the target,
else the source changed and the copy stops). An interrupted batch was rolled back entirely, so
nothing is ever copied twice. Stop collection on the source while copying.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (JSON, Column, Engine, Integer, MetaData, String, Table, Text, cast, func, inspect, literal,
                        select, tuple_, type_coerce)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from radpulse.db.engine import Database, create_db_engine, open_database, upgrade
from radpulse.db.models import AS_STORED, Base
from radpulse.db.reading import read_ahead
from radpulse.errors import DatabaseError, InputError

STATE_TABLE = "radpulse_copy_state"
#: the indexes and foreign keys set aside while copying, as the statements that make them again
DEFERRED_TABLE = "radpulse_copy_deferred"
#: tables Alembic owns, and the copy's bookkeeping; never counted as data
BOOKKEEPING = {"alembic_version", STATE_TABLE, DEFERRED_TABLE}
_state = Table(STATE_TABLE, MetaData(), Column("id", Integer, primary_key=True), Column("source", String(2000)),
               Column("started_at", String(40)))
_deferred = Table(DEFERRED_TABLE, MetaData(), Column("id", Integer, primary_key=True), Column("statement", Text))
#: the target's plain (not unique, not primary key) indexes and its foreign keys: (re-create, drop)
_DEFERRABLE = """
SELECT pg_get_indexdef(i.indexrelid), format('DROP INDEX %I', ic.relname)
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
WHERE t.relnamespace = current_schema()::regnamespace AND NOT i.indisprimary AND NOT i.indisunique
  AND t.relname NOT IN ('alembic_version', 'radpulse_copy_state', 'radpulse_copy_deferred')
UNION ALL
SELECT format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)),
       format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname)
FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace
"""

#: called after each committed batch: (table name, rows in the batch)
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class TableCount:
    """One table's rows in the source and the target after the copy."""

    table: str
    source: int
    target: int
    copied: int  # by this run (a resumed run copies only what was left)


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def tables(db: Database) -> list[Table]:
    """radpulse's tables in dependency order, those the database has."""
    present = set(inspect(db.engine).get_table_names())
    return [t for t in Base.metadata.sorted_tables if t.name in present]


def count_rows(engine: Engine, names: Sequence[str]) -> dict[str, int]:
    with engine.connect() as conn:
        return {n: conn.execute(select(func.count()).select_from(Table(n, MetaData()))).scalar_one() for n in names}


def _rows_in(engine: Engine) -> dict[str, int]:
    names = [n for n in inspect(engine).get_table_names() if n not in BOOKKEEPING]
    return {n: c for n, c in count_rows(engine, names).items() if c}


def prepare_target(target_url: str, source_url: str) -> tuple[Engine, bool]:
    """The target's engine, migrated to head; True when a copy from this source is being resumed.

    Refuses a target that is not PostgreSQL, holds data of its own, or holds an unfinished copy
    from another source.
    """
    try:
        backend = make_url(target_url).get_backend_name()
    except ArgumentError:
        backend = None
    if backend != "postgresql":
        shown = _shown(target_url) if backend else repr(target_url)
        raise InputError(f"`db copy --to` takes a PostgreSQL URL, not {shown}.",
                         hint="Create an empty database (createdb radpulse) and pass "
                              "--to postgresql+psycopg://user@host:5432/radpulse.")
    engine = create_db_engine(target_url)
    try:
        names = set(inspect(engine).get_table_names())
    except Exception as exc:  # noqa: BLE001 - the driver's error, described
        from radpulse.db.engine import describe_db_error

        engine.dispose()
        raise describe_db_error(target_url, exc) from exc
    resuming = False
    if STATE_TABLE in names:
        with engine.connect() as conn:
            started = conn.execute(select(_state.c.source)).scalar()
        if started != _shown(source_url):
            engine.dispose()
            raise InputError(
                f"{_shown(target_url)} holds an unfinished copy from {started}, not from {_shown(source_url)}.",
                hint="Run the copy again from that source to finish it, or drop and recreate the target database.")
        resuming = True
    else:
        filled = _rows_in(engine)
        if filled:
            engine.dispose()
            listed = ", ".join(f"{n} ({c:,} rows)" for n, c in sorted(filled.items(), key=lambda kv: -kv[1])[:5])
            raise InputError(
                f"The target database {_shown(target_url)} is not empty: {listed}.",
                hint="db copy only writes into an empty database, so nothing there is overwritten or mixed: "
                     "create a new one (createdb radpulse_new) and pass its URL to --to.")
    upgrade(engine)
    if not resuming:
        _state.create(engine, checkfirst=True)
        _deferred.create(engine, checkfirst=True)
        with engine.begin() as conn:
            conn.execute(_state.insert().values(id=1, source=_shown(source_url),
                                                started_at=dt.datetime.now(dt.UTC).isoformat()))
            raw = conn.connection.driver_connection  # no parameters: the SQL's % are format()'s
            statements = raw.execute(_DEFERRABLE).fetchall()
            # indexes come first in the query, so they are made again before the foreign keys
            if statements:
                conn.execute(_deferred.insert(), [{"id": i, "statement": make} for i, (make, _) in enumerate(statements)])
            for _, drop in statements:
                raw.execute(drop)
    return engine, resuming


def _restore_deferred(target: Engine) -> None:
    """Make the indexes and foreign keys set aside for the copy again, in one transaction."""
    with target.begin() as conn:
        raw = conn.connection.driver_connection
        for (statement,) in conn.execute(select(_deferred.c.statement).order_by(_deferred.c.id)).all():
            raw.execute(statement)
        _deferred.drop(conn)


def _readable(table: Table) -> list[Any]:
    """Columns to read as stored, converted by nothing in Python: JSON as its text, times as
    SQLite's UTC text, booleans as 0/1 (PostgreSQL reads each from COPY's text as it is)."""
    return [cast(c, Text).label(c.name) if isinstance(c.type, JSON) else type_coerce(c, AS_STORED).label(c.name)
            for c in table.columns]


def _resume_key(source: Database, target: Engine, table: Table, done: int) -> tuple[Any, ...] | None:
    """The source key (as stored) of the last row already in the target (None: from the first row)."""
    if done == 0:
        return None
    pk = list(table.primary_key.columns)
    with source.engine.connect() as conn:
        key = conn.execute(select(*pk).order_by(*pk).offset(done - 1).limit(1)).first()
        stored = conn.execute(select(*(type_coerce(c, AS_STORED) for c in pk)).order_by(*pk)
                              .offset(done - 1).limit(1)).first()
    with target.connect() as conn:
        there = key is not None and conn.execute(
            select(func.count()).select_from(table).where(*(c == v for c, v in zip(pk, key)))).scalar_one()
    if not there:
        raise DatabaseError(
            f"Cannot resume the copy of {table.name}: the source changed since the copy began "
            f"(its row {done:,} in key order is not in the target).",
            hint="Drop and recreate the target database and copy again, with collection stopped.")
    return tuple(stored)  # type: ignore[arg-type]


def _batches(source: Database, table: Table, after: tuple[Any, ...] | None, size: int) -> Iterator[list[tuple]]:
    pk = list(table.primary_key.columns)
    columns = _readable(table)
    index = [table.columns.keys().index(c.name) for c in pk]
    while True:
        query = select(*columns).order_by(*pk).limit(size)
        if after is not None:  # keys as stored, compared as the source compares them
            stored = [literal(v, AS_STORED) for v in after]
            query = query.where(tuple_(*pk) > tuple_(*stored) if len(pk) > 1 else pk[0] > stored[0])
        with source.engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return
        yield rows
        after = tuple(rows[-1][i] for i in index)


def _write(target: Engine, table: Table, rows: Sequence[Sequence[Any]]) -> None:
    """One batch in one transaction, through COPY (text format: the values as the source stores
    them, times read in UTC as radpulse stores them; a commit need not wait for the disk, as a
    batch lost in a crash is copied again when the copy resumes)."""
    quote = target.dialect.identifier_preparer.quote
    names = ", ".join(quote(c.name) for c in table.columns)
    with target.begin() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            cur.execute("SET LOCAL TIME ZONE 'UTC'")
            cur.execute("SET LOCAL synchronous_commit TO OFF")
            with cur.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
                write = copy.write_row
                for row in rows:
                    write(row)


def _fix_sequences(target: Engine, copied: Sequence[Table]) -> None:
    """Start each integer id's sequence after the largest copied id."""
    with target.begin() as conn:
        for table in copied:
            pk = list(table.primary_key.columns)
            if len(pk) != 1 or not isinstance(pk[0].type, Integer):
                continue
            seq = conn.exec_driver_sql("SELECT pg_get_serial_sequence(%s, %s)", (table.name, pk[0].name)).scalar()
            if seq is None:
                continue
            conn.exec_driver_sql(
                f'SELECT setval(%s, COALESCE((SELECT MAX("{pk[0].name}") FROM "{table.name}"), 1), '
                f'(SELECT MAX("{pk[0].name}") FROM "{table.name}") IS NOT NULL)', (seq,))


def copy_database(source_url: str, target_url: str, *, batch_size: int = 20_000,
                  on_start: Callable[[dict[str, int]], None] | None = None,
                  progress: Progress | None = None) -> list[TableCount]:
    """Copy every table of `source_url` into the empty PostgreSQL `target_url` (see the module doc)."""
    if batch_size < 1:
        raise InputError(f"batch size must be at least 1, not {batch_size}.")
    source = open_database(source_url, create=False)
    try:
        target, _ = prepare_target(target_url, source_url)
        try:
            order = tables(source)
            totals = count_rows(source.engine, [t.name for t in order])
            done = count_rows(target, [t.name for t in order])
            if on_start:
                on_start({n: totals[n] - done[n] for n in totals})
            copied = {}
            for table in order:
                n = 0
                after = _resume_key(source, target, table, done[table.name])
                for rows in read_ahead(_batches(source, table, after, batch_size)):  # read while COPY writes
                    _write(target, table, rows)
                    n += len(rows)
                    if progress:
                        progress(table.name, len(rows))
                copied[table.name] = n
            _fix_sequences(target, order)
            _restore_deferred(target)
            after_counts = count_rows(target, [t.name for t in order])
            result = [TableCount(t.name, totals[t.name], after_counts[t.name], copied[t.name]) for t in order]
            wrong = [r for r in result if r.source != r.target]
            if wrong:
                listed = "; ".join(f"{r.table}: {r.source:,} in the source, {r.target:,} copied" for r in wrong)
                raise DatabaseError(f"Row counts differ after the copy: {listed}.",
                                    hint="Stop collection on the source, drop and recreate the target, copy again.")
            _state.drop(target)
            return result
        finally:
            target.dispose()
    finally:
        source.dispose()
