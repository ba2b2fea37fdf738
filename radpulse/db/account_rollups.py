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

    Read from `rollup_account_daily` (one row per account and active day), in three reads that
    return little: how many accounts were last active on each day before `first` (grouped in the
    database: a histogram, not a row per account), the active days from `first` on, and for the
    accounts active then their last day before `first`. Then day by day: an account active on b
    moves from its previous last day to b in the histogram, and the accounts within k days of b
    are the histogram summed over [b - k, b].
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
    n_days = (last - base).days + 1
    histogram = _last_days_before(conn, first, base)
    after = conn.execute(select(a.platform, a.author_id, a.day).where(a.day >= first)).all()
    # for each account active from `first` on, its last day before `first` (a primary key seek each)
    later = select(a.platform, a.author_id).where(a.day >= first).distinct().subquery()
    r = RollupAccountDaily.__table__.alias("r")
    moved = conn.execute(select(later.c.platform, later.c.author_id, select(func.max(r.c.day)).where(
        r.c.platform == later.c.platform, r.c.author_id == later.c.author_id, r.c.day >= base, r.c.day < first)
        .scalar_subquery())).all()
    dates = {base + dt.timedelta(days=i): i for i in range(n_days)}
    offset = {**dates, **{d.isoformat(): i for d, i in dates.items()}}  # SQLite gives the stored text
    hist: dict[str, np.ndarray] = {}
    for platform, when, count in histogram:
        hist.setdefault(platform, np.zeros(n_days, dtype=np.int64))[offset[when]] += count
    latest: dict[tuple[str, str], int] = {(p, author): offset[when] for p, author, when in moved if when is not None}
    by_day: dict[str, list[tuple[int, str]]] = {}
    for platform, author, when in after:
        by_day.setdefault(platform, []).append((offset[when], author))
        hist.setdefault(platform, np.zeros(n_days, dtype=np.int64))
    written = 0
    for platform, counts_of in hist.items():
        active = sorted(by_day.get(platform, []))
        out = []
        i = 0
        for b in range((first - base).days, n_days):
            while i < len(active) and active[i][0] == b:
                key = (platform, active[i][1])
                if key in latest:
                    counts_of[latest[key]] -= 1
                counts_of[b] += 1
                latest[key] = b
                i += 1
            within = np.cumsum(counts_of[b - MAX_ACCOUNT_LAG : b + 1][::-1])
            when = base + dt.timedelta(days=b)
            out.extend({"day": when, "platform": platform, "lag": k, "accounts": int(v)} for k, v in enumerate(within))
        for chunk in range(0, len(out), 10_000):
            conn.execute(insert(RollupAccountsLag), out[chunk : chunk + 10_000])
        written += len(out)
    return written


def _last_days_before(conn: Connection, first: dt.date, base: dt.date) -> list[tuple[str, object, int]]:
    """(platform, day, accounts whose last active day before `first` it is) for the days in
    [base, first): from the stored counts of the day before `first` when they are there (they are
    current: a refresh recomputes every day from its first on), else grouped from
    `rollup_account_daily`."""
    a, lag = RollupAccountDaily.__table__.c, RollupAccountsLag.__table__.c
    eve = first - dt.timedelta(days=1)
    stored = conn.execute(select(lag.platform, lag.lag, lag.accounts).where(lag.day == eve)
                          .order_by(lag.platform, lag.lag)).all()
    if stored:  # accounts within k days of the eve, k = 0..MAX: differences give each day's count
        out, previous = [], {}
        for platform, k, accounts in stored:
            when = eve - dt.timedelta(days=k)
            if when >= base and accounts - previous.get(platform, 0):
                out.append((platform, when, accounts - previous.get(platform, 0)))
            previous[platform] = accounts
        return out
    if conn.execute(select(func.min(a.day)).where(a.day < first)).scalar() is None:
        return []  # nothing before `first`
    # SQLite: `+day` keeps the day index out, so the scan runs in the table's (account, day)
    # order and groups without sorting
    day = literal_column("+rollup_account_daily.day") if conn.dialect.name == "sqlite" else a.day
    last_before = (select(a.platform, a.author_id, func.max(a.day).label("last"))
                   .where(day >= base, day < first).group_by(a.platform, a.author_id).subquery())
    return conn.execute(select(last_before.c.platform, last_before.c.last, func.count())
                        .group_by(last_before.c.platform, last_before.c.last)).all()
