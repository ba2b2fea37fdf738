"""UTC days: the buckets the rollups and the stored trends are kept in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Date, cast, func
from sqlalchemy.sql.expression import ColumnElement

_UTC = dt.timezone.utc


def utc_day(column: Any, dialect: str) -> ColumnElement:
    """SQL: the UTC date of a stored timestamp (SQLite stores naive UTC text)."""
    if dialect == "sqlite":
        return func.substr(column, 1, 10)
    return cast(func.timezone("UTC", column), Date)


def day_of(when: dt.datetime) -> dt.date:
    """The UTC day of a timestamp (the day its rollups are in)."""
    return when.astimezone(_UTC).date()


def day_ranges(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days merged into [first, last] ranges."""
    out: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if out and out[-1][1] + dt.timedelta(days=1) == day:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def day_start(day: dt.date) -> dt.datetime:
    """The UTC midnight a day starts at (`day_of`'s inverse)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=_UTC)


def as_dates(values: Iterable[Any]) -> set[dt.date]:
    return {v if isinstance(v, dt.date) else dt.date.fromisoformat(v) for v in values}


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1)
