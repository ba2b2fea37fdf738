"""Shared fixtures: databases on SQLite and a real PostgreSQL, clean settings, no network, no sleep."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text

from radpulse.config import Settings, default_config_data, settings_from_dict
from radpulse.db.engine import Database, open_database
from radpulse.db.models import Base

ROOT = Path(__file__).resolve().parents[1]
#: the recorded payloads: RADPULSE_FIXTURES if set, else ../shared/fixtures beside the project
#: (`make test` checks this first; `make fixtures` downloads them: .ci/fixtures.py)
FIXTURES = Path(os.environ.get("RADPULSE_FIXTURES") or ROOT.parent / "shared" / "fixtures")
PG_ADMIN_URL = os.environ.get("RADPULSE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# CI explores the same examples on every run (a red CI always means a real regression);
# developers' runs keep exploring new ones
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

SECRET_VARS = (
    "X_BEARER_TOKEN", "REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "BLUESKY_HANDLE",
    "BLUESKY_APP_PASSWORD", "NCBI_API_KEY", "RADPULSE_SMTP_PASSWORD", "RADPULSE_DATABASE_URL",
    "RADPULSE_CONFIG",
)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The recorded real payloads in ../shared/fixtures."""
    assert FIXTURES.is_dir(), (f"recorded fixtures not found at {FIXTURES}: run `make fixtures` or set "
                               "RADPULSE_FIXTURES to the folder that holds them")
    return FIXTURES


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No secrets or config from the developer's environment; XDG dirs inside tmp_path."""
    for name in list(os.environ):
        if name in SECRET_VARS or name.startswith("RADPULSE_MASTODON_TOKEN_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address):  # type: ignore[no-untyped-def]
    _refuse_outside(self.family, address)
    return _real_connect(self, address)


_real_connect_ex = socket.socket.connect_ex


#: every refused attempt of the running test: code that catches the RuntimeError (a collector
#: logging a failed fetch, say) must not hide that it tried; `_no_network` fails the test after it
_ATTEMPTS: list[str] = []


def _refuse_outside(family: int, address) -> None:  # type: ignore[no-untyped-def]
    if family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        if not (host.startswith("127.") or host in ("::1", "localhost")):
            _ATTEMPTS.append(f"connect {address!r}")
            raise RuntimeError(f"test tried to reach the network ({address!r}); replay a recording instead")


def _guarded_connect_ex(self: socket.socket, address):  # type: ignore[no-untyped-def]
    _refuse_outside(self.family, address)
    return _real_connect_ex(self, address)


_real_getaddrinfo = socket.getaddrinfo


def _guarded_getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Name lookups are network traffic too (a DNS query leaves the machine before any connect)."""
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and not (name in ("localhost", "::1", "") or name.startswith("127.")):
        _ATTEMPTS.append(f"lookup {name!r}")
        raise RuntimeError(f"test tried to look up {name!r} on the network; replay a recording instead")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests never touch the network: only loopback connections and names are allowed, and a
    test that tried anything else fails, even when the code under test caught the refusal."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)
    _ATTEMPTS.clear()
    yield
    tried, _ATTEMPTS[:] = list(_ATTEMPTS), []
    assert not tried, f"the test tried to reach the network (replay a recording instead): {tried}"


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> list[float]:
    """time.sleep is recorded, not slept (rate-limit waits are asserted on this list)."""
    slept: list[float] = []
    if "real_sleep" not in request.keywords:
        monkeypatch.setattr(time, "sleep", lambda seconds: slept.append(seconds))
    return slept


@pytest.fixture
def settings() -> Settings:
    """The packaged default settings with an empty environment."""
    return settings_from_dict(default_config_data(), environ={})


def make_settings(data: dict | None = None, env: dict[str, str] | None = None) -> Settings:
    """Settings from the defaults updated by `data` (section by section) and `env`."""
    base = default_config_data()
    for key, value in (data or {}).items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return settings_from_dict(base, environ=env or {})


@pytest.fixture(scope="session")
def pg_url(worker_id: str) -> str:
    """A PostgreSQL database of this test worker's own on the real server."""
    # unique per process: parallel test runs on one server never share (or drop) a database
    name = f"radpulse_test_{worker_id}_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_pg(url: str) -> None:
    db = open_database(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        # a connection an earlier test left open (an abandoned stream) must not block the TRUNCATE
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database URL: an SQLite file and the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'radpulse.db'}"
    url = request.getfixturevalue("pg_url")
    _empty_pg(url)
    return url


@pytest.fixture
def db(db_url: str) -> Database:
    """An opened, migrated, empty database (parametrised: SQLite and PostgreSQL)."""
    database = open_database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def helper_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Reads through ADBC happen only in the helper process: this process (as the dashboard's,
    beside its SQLAlchemy connections) refuses ADBC's connect; the list grows by one per table
    the helper returns (see radpulse.db.arrow_read)."""
    import adbc_driver_sqlite.dbapi as adbc

    from radpulse.db import arrow_read

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("opened through ADBC in the dashboard's process")

    monkeypatch.setattr(adbc, "connect", refuse)
    reads: list[int] = []
    real = arrow_read.read_sql_in_helper

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        table = real(*args, **kwargs)
        if table is not None:
            reads.append(1)
        return table

    monkeypatch.setattr(arrow_read, "read_sql_in_helper", counted)
    return reads


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Database:
    """An SQLite-only database for tests that are about SQLite itself."""
    database = open_database(f"sqlite:///{tmp_path / 'radpulse.db'}")
    yield database
    database.dispose()
