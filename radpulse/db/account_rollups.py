"""The account rollups kept from `rollup_account_daily` rather than from the posts: each
account's totals, distinct accounts per author type and month, and distinct accounts of the
windows ending each day by length (`rollup_accounts_lag`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Date, delete, func, insert, literal, literal_column, select, true

from radpulse.db.days import as_dates, next_month
from radpulse.db.engine import insert_for
from radpulse.db.models import (
    MAX_ACCOUNT_LAG,
    RollupAccountDaily,
    RollupAccountsLag,
    RollupAccountTotal,
    RollupAuthorTypeMonthly,
)


def refresh_account_totals(conn: Connection, days: Sequence[dt.date] | None, sign: int) -> None:
    """Add (`sign` 1) or take away (-1) the `rollup_account_daily` rows of `days` (None: all) to or
    from `rollup_account_totals`; accounts left without posts are removed."""
    a, t = RollupAccountDaily, RollupAccountTotal.__table__
    rows = (select(a.platform, a.author_id, func.max(a.author_type), sign * func.sum(a.posts),
                   sign * func.sum(a.engagement))
            .where(true() if days is None else a.day.in_(days)).group_by(a.platform, a.author_id))
    stmt = insert_for(conn, t).from_select(["platform", "author_id", "author_type", "posts", "engagement"], rows)
    fresh = {"posts": t.c.posts + stmt.excluded.posts, "engagement": t.c.engagement + stmt.excluded.engagement}
    if sign > 0:
        fresh["author_type"] = stmt.excluded.author_type
    conn.execute(stmt.on_conflict_do_update(index_elements=["platform", "author_id"], set_=fresh))
    if sign < 0:
        conn.execute(delete(RollupAccountTotal).where(RollupAccountTotal.posts <= 0))


def refresh_author_type_months(conn: Connection, months: Iterable[dt.date]) -> None:
    """Recount `rollup_author_type_monthly` for `months` (first days) from `rollup_account_daily`."""
    a, m = RollupAccountDaily, RollupAuthorTypeMonthly
    for month in sorted(set(months)):
        conn.execute(delete(m).where(m.month == month))
        conn.execute(insert(m).from_select(
            ["month", "platform", "author_type", "accounts"],
            select(literal(month, Date()), a.platform, a.author_type, func.count(a.author_id.distinct()))
            .where(a.day >= month, a.day < next_month(month)).group_by(a.platform, a.author_type)))


def refresh_accounts_lag(conn: Connection, first: dt.date) -> int:
    """Recompute `rollup_accounts_lag` for every day from `first` on: for day b and lag k, the
    accounts whose last public post up to b is at most k days before it. Rows written.

    Read from `rollup_account_daily` (one row per account and active day): each account's last
    active day before `first` (one grouped scan of the account-clustered table), then the active
    days from `first` on, applied day by day; the counts of a day are a histogram of how long ago
    each account was last active, summed up to each lag.
    """
    import numpy as np

    a = RollupAccountDaily.__table__.c
    last = conn.execute(select(func.max(a.day))).scalar()
    conn.execute(delete(RollupAccountsLag).where(RollupAccountsLag.day >= first))
    if last is None:
        return 0
    last = as_dates([last]).pop()
    if last < first:
        return 0
    base = first - dt.timedelta(days=MAX_ACCOUNT_LAG)
    # SQLite: `+day` keeps the day index out, so the scan runs in the table's (account, day)
    # order and groups without sorting (0.15 s instead of 0.5 s at a million posts)
    day = literal_column("+rollup_account_daily.day") if conn.dialect.name == "sqlite" else a.day
    before = conn.execute(select(a.platform, a.author_id, func.max(a.day)).where(day >= base, day < first)
                          .group_by(a.platform, a.author_id)).all()
    after = conn.execute(select(a.platform, a.author_id, a.day).where(a.day >= first)).all()
    n_days = (last - base).days + 1
    dates = {base + dt.timedelta(days=i): i for i in range(n_days)}
    offset = {**dates, **{d.isoformat(): i for d, i in dates.items()}}  # SQLite gives the stored text
    platforms: dict[str, tuple[dict[str, int], list[int], list[tuple[int, int]]]] = {}
    for platform, author, when in before:
        index, latest, _ = platforms.setdefault(platform, ({}, [], []))
        index[author] = len(latest)
        latest.append(offset[when])
    for platform, author, when in after:
        index, latest, active = platforms.setdefault(platform, ({}, [], []))
        if author not in index:
            index[author] = len(latest)
            latest.append(-MAX_ACCOUNT_LAG - 1)  # not active in the window before `first`
        active.append((offset[when], index[author]))
    written = 0
    for platform, (_, latest_list, active) in platforms.items():
        latest = np.array(latest_list, dtype=np.int64)
        active.sort()
        out = []
        i = 0
        for b in range((first - base).days, n_days):
            while i < len(active) and active[i][0] == b:
                latest[active[i][1]] = b
                i += 1
            ago = b - latest
            counts = np.cumsum(np.bincount(ago[ago <= MAX_ACCOUNT_LAG], minlength=MAX_ACCOUNT_LAG + 1))
            when = base + dt.timedelta(days=b)
            out.extend({"day": when, "platform": platform, "lag": k, "accounts": int(v)} for k, v in enumerate(counts))
        for chunk in range(0, len(out), 10_000):
            conn.execute(insert(RollupAccountsLag), out[chunk : chunk + 10_000])
        written += len(out)
    return written
