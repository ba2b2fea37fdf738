"""Opening the database: engine, SQLite pragmas, migrations on open, and clear errors."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from radpulse.errors import DatabaseError

MIGRATIONS = Path(__file__).with_name("migrations")
log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    try:
        # 16 KiB pages (applies only when the file is new): posts keep raw payloads of 2-4 KB,
        # which on 4 KiB pages take a page each and double the bytes written per post
        cur.execute("PRAGMA page_size=16384")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=5000")
        mode = cur.execute("PRAGMA journal_mode=WAL").fetchone()
        if mode and str(mode[0]).lower() not in ("wal", "memory"):
            cur.execute("PRAGMA journal_mode")  # read-only media etc.: keep what we have
        cur.execute("PRAGMA synchronous=NORMAL")
        # checkpoint the WAL every 16,384 pages (256 MiB of 16 KiB pages) at the latest: bulk
        # collection writes raw payloads of several KB per post, and each checkpoint costs a sync
        # of the database file (bulk writers checkpoint sooner, off their thread: see
        # Database.background_checkpoints)
        cur.execute("PRAGMA wal_autocheckpoint=16384")
        cur.execute("PRAGMA cache_size=-65536")  # 64 MiB of page cache per connection
        cur.execute("PRAGMA journal_size_limit=67108864")
    finally:
        cur.close()


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config pointing at radpulse's packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def describe_db_error(url: str, exc: BaseException) -> DatabaseError:
    """Turn a driver error into a message that says what is wrong and what to do."""
    shown = make_url(url).render_as_string(hide_password=True) if "://" in url else url
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc) else type(exc).__name__
    low = detail.lower()
    if "database is locked" in low:
        return DatabaseError(
            f"The database {shown} is locked by another process ({detail}).",
            hint="Wait for the other radpulse command to finish, or stop it, then try again.",
        )
    if "file is not a database" in low or "malformed" in low or "file is encrypted" in low:
        return DatabaseError(
            f"The database file {shown} is corrupt or not an SQLite database ({detail}).",
            hint="Restore it from a backup, or move it away and run `radpulse init` to start a new one.",
        )
    if "unable to open database file" in low:
        return DatabaseError(
            f"Cannot open the SQLite file {shown} ({detail}).",
            hint="Check that its folder exists and is writable, or set [database].url.",
        )
    if "connection" in low or "could not" in low or "timeout" in low or "refused" in low:
        return DatabaseError(
            f"Cannot connect to the database {shown}: {detail}.",
            hint="Check that the server is running and the URL in RADPULSE_DATABASE_URL or "
            "[database].url is right.",
        )
    return DatabaseError(f"Database error on {shown}: {detail}.", hint="Run with --debug for details.")


@dataclass
class Database:
    """An opened, migrated radpulse database."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session] = field(repr=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def background_checkpoints(self) -> Iterator[Callable[[], None]]:
        """Checkpoint the SQLite WAL on another thread while a bulk writer goes on.

        Yields a function to call after each commit. A WAL checkpoint copies the committed
        pages into the database file and syncs it; left to SQLite it runs inside the commit
        that crosses `wal_autocheckpoint`, stalling the writer for the whole copy. Here a
        thread with its own connection runs a PASSIVE checkpoint after each commit (one call
        into SQLite, which releases the GIL), so the copy and the sync overlap the writer's
        next pages; the WAL is then reused from its start instead of growing. The automatic
        checkpoint stays as the safety net. Other databases: a no-op.
        """
        path = self.engine.url.database if self.dialect == "sqlite" else None
        if not path or path == ":memory:" or path.startswith("file:"):
            yield lambda: None
            return
        checkpointer = _Checkpointer(path)
        try:
            yield checkpointer.wake
        finally:
            checkpointer.stop()


class _Checkpointer(threading.Thread):
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` each time it is woken, until stopped."""

    def __init__(self, path: str) -> None:
        super().__init__(name="radpulse-wal-checkpoint", daemon=True)
        self.path = path
        self.pending = threading.Event()
        self.stopping = False
        self.start()

    def wake(self) -> None:
        self.pending.set()

    def stop(self) -> None:
        """Checkpoint once more (the last commit) and end."""
        self.stopping = True
        self.pending.set()
        self.join()

    def run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, timeout=5, check_same_thread=False)
        except sqlite3.Error:
            return  # nothing lost: the writer's automatic checkpoint still runs
        try:
            while True:
                self.pending.wait()
                self.pending.clear()
                last = self.stopping  # the writer is done: this checkpoint covers its last commit
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # busy or locked: the next wake tries again
                    log.debug("background WAL checkpoint skipped: %s", exc)
                if last:
                    return
        finally:
            conn.close()


def missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file `url` names when it does not exist yet (None: exists, in memory, or a server)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    database = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:") or parsed.query.get("mode") == "memory":
        return None
    path = Path(database).expanduser()
    return None if path.exists() else path


def refuse_missing(url: str) -> None:
    """Raise DatabaseError when `url` is an SQLite file that does not exist (only init and demo create one)."""
    path = missing_sqlite_file(url)
    if path is None:
        return
    folder = "" if path.parent.is_dir() else f" (nor does its folder {path.parent})"
    raise DatabaseError(
        f"The database {path} does not exist{folder}.",
        hint="Check the path in --database-url, RADPULSE_DATABASE_URL or [database].url; to start a new "
        "database there, run `radpulse init` (it keeps an existing config file), or `radpulse demo` "
        "for the synthetic demo.",
    )


def create_db_engine(url: str, *, echo: bool = False, create: bool = True) -> Engine:
    """A SQLAlchemy engine for `url` with radpulse's SQLite settings applied.

    With `create=False` a missing SQLite file (or folder) is an error instead of a new database.
    """
    if not create:
        refuse_missing(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"{url!r} is not a database URL.",
            hint="Use sqlite:///path/to/file.db or postgresql+psycopg://user@host/db.",
        ) from None
    kwargs: dict[str, object] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            parsed = parsed.set(database=str(Path(database).expanduser()))
        kwargs["connect_args"] = {"timeout": 5}
    elif parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs["connect_args"] = {"connect_timeout": 5}
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise DatabaseError(
            f"No driver for {parsed.drivername}: {exc}.",
            hint="Use sqlite:/// or postgresql+psycopg://.",
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` on `engine`."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Revert migrations down to `revision` ('base' drops everything)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def open_database(url: str, *, migrate: bool = True, echo: bool = False, create: bool = True) -> Database:
    """Open `url`, check it is usable and (by default) bring its schema to the newest revision.

    `create=False` (every CLI command but `init` and `demo`) refuses a missing SQLite file.
    """
    engine = create_db_engine(url, echo=echo, create=create)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA schema_version").fetchone()
        current = current_revision(engine)
        script = ScriptDirectory.from_config(alembic_config())
        if current is not None and script.get_revision(current) is None:
            raise DatabaseError(
                f"The database is at schema revision {current}, which this radpulse does not know.",
                hint="It was written by a newer radpulse: upgrade radpulse (pip install -U radpulse).",
            )
        if migrate and current != script.get_current_head():
            upgrade(engine)
    except DatabaseError:
        engine.dispose()
        raise
    except (SQLAlchemyError, DBAPIError, sqlite3.Error, OSError) as exc:
        engine.dispose()
        raise describe_db_error(url, exc) from exc
    except Exception as exc:  # alembic wraps some driver errors
        if "sqlite" in type(exc).__module__ or "psycopg" in type(exc).__module__:
            engine.dispose()
            raise describe_db_error(url, exc) from exc
        raise
    return Database(url=url, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))


_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def insert_for(conn: Connection, table: Table):  # type: ignore[no-untyped-def]
    """The dialect's INSERT construct that supports ON CONFLICT."""
    try:
        return _INSERTS[conn.dialect.name](table)
    except KeyError:
        raise NotImplementedError(f"radpulse supports SQLite and PostgreSQL, not {conn.dialect.name}") from None
