"""One date filter for the CLI and the pandas API: `7d`, `24h`, `2w`, `2026-11-01` or an ISO time.

`parse_when` is the only parser of `--since` / `--until` values (and of the API's `since=` /
`until=`); it is pure (the current time is an argument) and returns an aware UTC datetime, or
None for "no bound". A date means midnight UTC at its start; a span counts back from `now`:

    >>> now = dt.datetime(2026, 11, 8, 12, tzinfo=dt.UTC)
    >>> parse_when("7d", now).isoformat()
    '2026-11-01T12:00:00+00:00'
    >>> parse_when("2026-11-01", now).isoformat()
    '2026-11-01T00:00:00+00:00'
    >>> parse_when("2026-11-01T08:30:00+01:00", now).isoformat()
    '2026-11-01T07:30:00+00:00'

This module imports nothing from radpulse but its errors (a bottom-layer module).
"""

from __future__ import annotations

import datetime as dt
import re

from radpulse.errors import InputError

#: spans counted back from now: hours, days, weeks (months and years vary in length: use days)
UNITS = {"h": dt.timedelta(hours=1), "d": dt.timedelta(days=1), "w": dt.timedelta(weeks=1)}
_SPAN = re.compile(r"(\d+)\s*([a-z]+)")
#: words meaning "no bound"
UNBOUNDED = frozenset({"all", "ever"})
FORMS = "a span back from now (24h, 7d, 4w), a date (2026-11-01), an ISO time (2026-11-01T08:00Z) or 'all'"

When = str | dt.date | dt.datetime | None


def parse_when(value: When, now: dt.datetime | None = None, *, name: str = "date") -> dt.datetime | None:
    """`value` as an aware UTC datetime; None for None, '' or 'all'. `name` labels errors."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):  # pandas.Timestamp too
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    label = f"{name} {value!r}" if name else repr(value)
    text = str(value).strip()
    if not text or text.lower() in UNBOUNDED:
        return None
    span = _SPAN.fullmatch(text.lower())
    if span:
        unit = UNITS.get(span.group(2))
        if unit is None:
            raise InputError(
                f"{label}: unknown unit {span.group(2)!r}.",
                hint="Use hours, days or weeks (24h, 7d, 4w; months vary in length, so say 90d), "
                "or a date such as 2026-11-01.",
            )
        now = parse_when(now) if now is not None else dt.datetime.now(dt.UTC)
        assert now is not None
        return now - int(span.group(1)) * unit
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{label} is not a date or a span.", hint=f"Use {FORMS}.") from None
    return parse_when(parsed)


def parse_window(since: When, until: When, now: dt.datetime | None = None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Both ends of a [since, until) window; an empty window is an error, not zero rows."""
    now = now or dt.datetime.now(dt.UTC)
    start, end = parse_when(since, now, name="since"), parse_when(until, now, name="until")
    if start is not None and end is not None and start >= end:
        raise InputError(
            f"The window is empty: since {start:%Y-%m-%d %H:%M} is not before until {end:%Y-%m-%d %H:%M} (UTC).",
            hint="Give an earlier since or a later until.",
        )
    return start, end
