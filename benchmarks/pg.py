"""PostgreSQL helpers shared by the benchmarks."""

from __future__ import annotations

from sqlalchemy import create_engine, text

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def fresh_pg(url: str, name: str) -> str:
    """Drop and create the database `name` on the server of admin `url`; its URL."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.rsplit("/", 1)[0] + f"/{name}"


def drop_pg(url: str, name: str) -> None:
    """Drop the database `name` on the server of admin `url`."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
