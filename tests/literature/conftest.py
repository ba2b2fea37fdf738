"""Fixtures for the literature tests: tracked sources in the database and settings."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from radpulse.config import Settings, default_config_data, settings_from_dict
from radpulse.db.engine import Database
from radpulse.db.models import Source
from radpulse.collectors.http import RateLimiter
from radpulse.records import SourceSpec, utcnow


def literature_settings(data: dict | None = None, env: dict[str, str] | None = None) -> Settings:
    """Default settings updated section by section (as tests/conftest.py's make_settings).

    The test servers listen on loopback, which the SSRF guard refuses for redirects unless
    [network] allow_private_hosts is set: these settings set it explicitly.
    """
    base = default_config_data()
    base["network"] = {**base.get("network", {}), "allow_private_hosts": True}
    for key, value in (data or {}).items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return settings_from_dict(base, environ=env or {})


@pytest.fixture
def add_source(db: Database) -> Callable[..., SourceSpec]:
    """Store a tracked source and return its spec with the database id."""

    def add(name: str, platform: str, kind: str, value: str, settings: dict | None = None) -> SourceSpec:
        with db.session() as s:
            row = Source(name=name, platform=platform, kind=kind, value=value, settings=settings or {},
                         enabled=True, created_at=utcnow())
            s.add(row)
            s.flush()
            return SourceSpec(name, platform, kind, value, dict(settings or {}), row.id)

    return add


@pytest.fixture
def lit_settings() -> Callable[..., Settings]:
    """`lit_settings(data, env)`: settings from the defaults updated by `data` and `env`."""
    return literature_settings


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """time.sleep recorded, not slept, and advancing the rate limiters' clock by what was asked.

    (Overrides the suite's `sleeps`: with a clock that stands still, a limiter would see every
    recorded wait as not yet served.)
    """
    clock = [1000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(time, "sleep", sleep)
    monkeypatch.setattr(RateLimiter, "clock", staticmethod(lambda: clock[0]))
    return slept
