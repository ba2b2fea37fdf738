"""Reading the rollups: small DataFrames for the dashboard, the report and notebooks.

Every function reads only the rollup tables (radpulse/db/rollups.py), never `posts`, so its
cost depends on the window and the facets, not on the number of posts. Filters are the read
layer's `PostFilters`; rollups hold public posts only (`include_held` / `include_deleted` are
refused) and whole UTC days (`start` and `end` are rounded to the days they fall in; `end` is
exclusive at midnight).

Counting rules: each post counts once in totals; grouped by source or theme, a post counts in
each of its sources or themes (shares can add up to more than 100%), and a filter naming two
themes (or sources) counts a post carrying both twice in post and engagement sums. Account
counts are distinct accounts (platform + id) in every case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Date, and_, cast, func, or_, select, true, union_all

from radpulse.db.engine import Database
from radpulse.db.hashtag_sets import unpack
from radpulse.db.models import (
    MAX_ACCOUNT_LAG,
    ROLLUP_DIMENSIONS,
    RollupAccountsLag,
    RollupArticleDaily,
    RollupAuthorDaily,
    RollupDaily,
    RollupHashtagAccountSet,
    RollupHashtagDaily,
    RollupSliceDaily,
    RollupSliceMonthly,
)
from radpulse.db.queries.filters import PostFilters

PERIODS = ("day", "week", "month")
COUNTS = ("posts", "engagement", "likes", "reposts", "replies", "quotes", "score")
#: the PostFilters field that narrows each dimension
_FILTER_OF = {"platform": "platforms", "source": "sources", "subspecialty": "subspecialties", "theme": "themes",
              "sentiment": "sentiments", "author_type": "author_types", "language": "languages"}


def _check(filters: PostFilters, period: str = "day", dims: Sequence[str] = ()) -> None:
    if filters.include_held or filters.include_deleted:
        raise ValueError("Rollups hold public posts only: read held or deleted posts from `posts`.")
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}, not {period!r}.")
    unknown = [d for d in dims if d not in ROLLUP_DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown rollup dimension(s) {unknown}; choose from {ROLLUP_DIMENSIONS}.")


def day_bounds(filters: PostFilters) -> tuple[dt.date | None, dt.date | None]:
    """First day in, first day out."""
    first = filters.start.astimezone(dt.timezone.utc).date() if filters.start else None
    last = None
    if filters.end is not None:
        end = filters.end.astimezone(dt.timezone.utc)
        last = end.date() if end.time() == dt.time(0) else end.date() + dt.timedelta(days=1)
    return first, last


def day_window(day: Any, filters: PostFilters) -> list[Any]:
    """Conditions on a `day` column for the filters' window (`day_bounds`): none when it is open."""
    first, last = day_bounds(filters)
    return [*([day >= first] if first is not None else []), *([day < last] if last is not None else [])]


def _where(t: Any, filters: PostFilters, dims: Sequence[str] = (), *, facets: bool = True) -> Any:
    """Conditions on a rollup table `t` for the window and (with `facets`) the filters."""
    clauses = day_window(t.day, filters)
    if not facets:
        if filters.platforms:
            clauses.append(t.platform.in_(filters.platforms))
        return and_(true(), *clauses)
    for dim, field in _FILTER_OF.items():
        values = getattr(filters, field)
        if values:
            clauses.append(getattr(t, dim).in_(values))
        elif dim in ("source", "theme") and dim not in dims:
            clauses.append(getattr(t, f"first_{dim}").is_(True))  # each post once
    return and_(true(), *clauses)


def _period(day: Any, period: str, dialect: str) -> Any:
    """SQL: the first day of the day, ISO week (Monday) or month that `day` falls in."""
    if period == "day":
        return day
    if dialect == "sqlite":
        # 'weekday 1' moves forward to the next Monday (or stays): step back a week first
        return func.date(day, "-6 days", "weekday 1") if period == "week" else func.strftime("%Y-%m-01", day)
    return cast(func.date_trunc(period, day), Date)


def _frame(db: Database, query: Any, columns: Sequence[str], dates: Sequence[str] = ()) -> pd.DataFrame:
    with db.engine.connect() as conn:
        frame = pd.DataFrame([tuple(r) for r in conn.execute(query)], columns=list(columns))
    for name in dates:
        frame[name] = pd.to_datetime(frame[name]).dt.date
    return frame


def _slice(filters: PostFilters, dims: Sequence[str]) -> str | None:
    """The `rollup_slice_daily` cut ("" or a dimension) that answers `dims` under `filters`: at
    most one dimension besides platform and sentiment grouped or filtered; None otherwise."""
    used = {d for d in dims if d not in ("platform", "sentiment")}
    used |= {d for d, field in _FILTER_OF.items() if getattr(filters, field) and d not in ("platform", "sentiment")}
    if len(used) > 1:
        return None
    return used.pop() if used else ""


def _slice_where(t: Any, filters: PostFilters, cut: str, *, window: bool = True) -> Any:
    clauses = [t.dim == cut, *(day_window(t.day, filters) if window else [])]
    for dim, field in _FILTER_OF.items():
        values = getattr(filters, field)
        if values:
            clauses.append((t.value if dim == cut else getattr(t, dim)).in_(values))
    return and_(*clauses)


def _month_split(filters: PostFilters) -> tuple[dt.date, dt.date, dt.date, dt.date] | None:
    """(first day, first whole month, month after the last whole one, first day out) of a closed
    window holding at least one whole calendar month; None otherwise."""
    first, last = day_bounds(filters)
    if first is None or last is None:
        return None
    lo = first if first.day == 1 else (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    hi = last.replace(day=1)
    return (first, lo, hi, last) if lo < hi else None


def _slice_rows(filters: PostFilters, cut: str, dims: Sequence[str], dialect: str, *, by_month: bool) -> Any | None:
    """The window's slice rows as one subquery (columns: [period,] the dims, COUNTS), the whole
    months from `rollup_slice_monthly` and the days of the partial months at its ends from
    `rollup_slice_daily` (a year by month reads ~12 rows per value instead of ~365); None when
    the window holds no whole month."""
    split = _month_split(filters)
    if split is None:
        return None
    first, lo, hi, last = split
    d, m = RollupSliceDaily, RollupSliceMonthly
    ends = or_(and_(d.day >= first, d.day < lo), and_(d.day >= hi, d.day < last))
    daily = select(*([_period(d.day, "month", dialect).label("period")] if by_month else []),
                   *(_dim_column(d, x, cut) for x in dims), *(getattr(d, c).label(c) for c in COUNTS)
                   ).where(_slice_where(d, filters, cut, window=False), ends)
    monthly = select(*([m.month.label("period")] if by_month else []),
                     *(_dim_column(m, x, cut) for x in dims), *(getattr(m, c).label(c) for c in COUNTS)
                     ).where(_slice_where(m, filters, cut, window=False), m.month >= lo, m.month < hi)
    return union_all(monthly, daily).subquery("slices")


def _dim_column(t: Any, dim: str, cut: str | None) -> Any:
    return t.value.label(dim) if cut is not None and dim == cut else getattr(t, dim)


def volume_by(db: Database, filters: PostFilters = PostFilters(), *, period: str = "day",
              dims: Sequence[str] = ()) -> pd.DataFrame:
    """Posts and engagement per period (and per value of each of `dims`)."""
    _check(filters, period, dims)
    cut = _slice(filters, dims)
    rows = _slice_rows(filters, cut, dims, db.dialect, by_month=True) if cut is not None and period == "month" else None
    if rows is not None:  # by month over whole months: the monthly slices
        keys = [rows.c.period, *(rows.c[d] for d in dims)]
        query = select(*keys, *(func.sum(rows.c[c]) for c in COUNTS)).group_by(*keys).order_by(*keys)
    else:
        t: Any = RollupDaily if cut is None else RollupSliceDaily
        where = _where(t, filters, dims) if cut is None else _slice_where(t, filters, cut)
        bucket = _period(t.day, period, db.dialect).label("period")
        keys = [bucket, *(_dim_column(t, d, cut) for d in dims)]
        query = (select(*keys, *(func.sum(getattr(t, c)) for c in COUNTS))
                 .where(where).group_by(*keys).order_by(*keys))
    frame = _frame(db, query, ["period", *dims, *COUNTS], dates=["period"])
    return frame.astype({c: "int64" for c in COUNTS})


def accounts_by(db: Database, filters: PostFilters = PostFilters(), *, period: str = "day",
                dims: Sequence[str] = ()) -> pd.DataFrame:
    """Distinct accounts per period (and per value of each of `dims`)."""
    _check(filters, period, dims)
    if set(dims) <= {"platform"} and _only_platforms(filters):
        return _accounts_by_lag(db, filters, period, dims)
    t = RollupAuthorDaily
    bucket = _period(t.day, period, db.dialect).label("period")
    keys = [bucket, *(getattr(t, d) for d in dims)]
    inner = (select(*keys, t.platform.label("_p"), t.author_id.label("_a"))
             .where(_where(t, filters, dims)).distinct().subquery())
    outer_keys = [inner.c.period, *(inner.c[d] for d in dims)]
    query = select(*outer_keys, func.count()).group_by(*outer_keys).order_by(*outer_keys)
    frame = _frame(db, query, ["period", *dims, "accounts"], dates=["period"])
    return frame.astype({"accounts": "int64"})


def totals(db: Database, filters: PostFilters = PostFilters()) -> dict[str, int]:
    """Posts, distinct accounts and engagement sums of the window."""
    _check(filters)
    a = RollupAuthorDaily
    with db.engine.connect() as conn:
        sums = conn.execute(_window_sums(filters, COUNTS, db.dialect)).one()
    if _only_platforms(filters):
        lagged = _accounts_by_lag(db, filters, None, ())
        accounts = int(lagged["accounts"].sum())
    else:
        with db.engine.connect() as conn:
            accounts = conn.execute(select(func.count()).select_from(
                select(a.platform, a.author_id).where(_where(a, filters)).distinct().subquery())).scalar_one()
    return {**{c: int(v) for c, v in zip(COUNTS, sums)}, "accounts": int(accounts)}


def post_count(db: Database, filters: PostFilters = PostFilters()) -> int:
    """Public posts of the window and filters (each once; see the counting rules)."""
    _check(filters)
    with db.engine.connect() as conn:
        return int(conn.execute(_window_sums(filters, ("posts",), db.dialect)).scalar_one())


def _window_sums(filters: PostFilters, counts: Sequence[str], dialect: str) -> Any:
    """SELECT of the window's sums of `counts` (0 when empty): from the slices when they answer
    the filters (whole months from the monthly ones), else from `rollup_daily`."""
    cut = _slice(filters, ())
    rows = _slice_rows(filters, cut, (), dialect, by_month=False) if cut is not None else None
    if rows is not None:
        return select(*(func.coalesce(func.sum(rows.c[c]), 0) for c in counts))
    t: Any = RollupDaily if cut is None else RollupSliceDaily
    where = _where(t, filters) if cut is None else _slice_where(t, filters, cut)
    return select(*(func.coalesce(func.sum(getattr(t, c)), 0) for c in counts)).where(where)


def _only_platforms(filters: PostFilters) -> bool:
    return not any(getattr(filters, field) for dim, field in _FILTER_OF.items() if dim != "platform")


def _accounts_by_lag(db: Database, filters: PostFilters, period: str | None, dims: Sequence[str]) -> pd.DataFrame:
    """Distinct accounts per period (the whole window when `period` is None), from
    `rollup_accounts_lag`: one row per period and platform (windows longer than the table
    holds, or days it does not hold yet, are counted on `rollup_author_daily`)."""
    first, last = day_bounds(filters)
    if first is None or last is None:
        with db.engine.connect() as conn:
            lo, hi = conn.execute(select(func.min(RollupAuthorDaily.day), func.max(RollupAuthorDaily.day))).one()
        if lo is None:
            return pd.DataFrame(columns=["period", *dims, "accounts"])
        lo, hi = (v if isinstance(v, dt.date) else dt.date.fromisoformat(v) for v in (lo, hi))
        first, last = first or lo, last or hi + dt.timedelta(days=1)
    spans = _period_spans(first, last, period)  # (period start, first day, last day) clipped to the window
    l = RollupAccountsLag
    keys = [(b, (b - a).days) for _, a, b in spans]
    # day IN and lag IN (primary-key ranges), not (day, lag) IN pairs, which SQLite scans the table for
    query = select(l.day, l.platform, l.lag, l.accounts).where(l.day.in_(sorted({b for b, _ in keys})),
                                                               l.lag.in_(sorted({k for _, k in keys})))
    if filters.platforms:
        query = query.where(l.platform.in_(filters.platforms))
    with db.engine.connect() as conn:
        found = pd.DataFrame(conn.execute(query).all(), columns=["day", "platform", "lag", "accounts"])
        days_held = set(conn.execute(select(l.day).where(l.day.in_([b for b, _ in keys]), l.lag == 0).distinct()).scalars())
    found["day"] = pd.to_datetime(found["day"]).dt.date
    held = {d if isinstance(d, dt.date) else dt.date.fromisoformat(d) for d in days_held}
    rows = []
    for start, a, b in spans:
        k = (b - a).days
        part = found[(found["day"] == b) & (found["lag"] == k)]
        if k > MAX_ACCOUNT_LAG or b not in held:
            part = _accounts_exact(db, filters, a, b)
        for platform, n in zip(part["platform"], part["accounts"]):
            rows.append({"period": start, "platform": platform, "accounts": int(n)})
    out = pd.DataFrame(rows, columns=["period", "platform", "accounts"])
    out = out[out["accounts"] > 0]
    if period is None:
        return out
    if not dims:
        out = out.groupby("period", as_index=False)["accounts"].sum()
    return out.sort_values(["period", *dims]).reset_index(drop=True).astype({"accounts": "int64"})


def _accounts_exact(db: Database, filters: PostFilters, first: dt.date, last: dt.date) -> pd.DataFrame:
    a = RollupAuthorDaily
    inner = (select(a.platform, a.author_id).where(a.day >= first, a.day <= last, a.first_source.is_(True),
                                                   a.first_theme.is_(True), *( [a.platform.in_(filters.platforms)]
                                                                               if filters.platforms else []))
             .distinct().subquery())
    query = select(inner.c.platform, func.count()).group_by(inner.c.platform)
    with db.engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=["platform", "accounts"])


def _period_spans(first: dt.date, end: dt.date, period: str | None) -> list[tuple[dt.date, dt.date, dt.date]]:
    """(period start, first day, last day) of each period of [first, end), clipped to it."""
    if period is None:
        return [(first, first, end - dt.timedelta(days=1))]
    spans = []
    day = first
    while day < end:
        if period == "day":
            start, nxt = day, day + dt.timedelta(days=1)
        elif period == "week":
            start = day - dt.timedelta(days=day.weekday())
            nxt = start + dt.timedelta(days=7)
        else:
            start = day.replace(day=1)
            nxt = (start + dt.timedelta(days=32)).replace(day=1)
        spans.append((start, day, min(nxt, end) - dt.timedelta(days=1)))
        day = nxt
    return spans




#: the facets the per-account tables cannot apply (an account's posts differ in these)
def hashtags(db: Database, filters: PostFilters = PostFilters(), *, tags: Sequence[str] = (),
             period: str | None = None, limit: int = 20) -> pd.DataFrame:
    """Posts and account-days per hashtag (the `limit` busiest, or `tags`), per period if given.

    Only the window and platforms of `filters` apply (hashtag rollups have no other facets).
    `account_days` sums each day's distinct accounts: an account posting on three days counts 3.
    """
    _check(filters, period or "day")
    h = RollupHashtagDaily
    where = _where(h, filters, facets=False)
    if tags:
        where = and_(where, h.hashtag.in_([t.lstrip("#").lower() for t in tags]))
    keys = [h.hashtag] if period is None else [_period(h.day, period, db.dialect).label("period"), h.hashtag]
    posts = func.sum(h.posts).label("posts")
    query = select(*keys, posts, func.sum(h.authors)).where(where).group_by(*keys)
    if period is None:
        query = query.order_by(posts.desc(), h.hashtag).limit(None if tags else limit)
    else:
        query = query.order_by(*keys)
    names = ["hashtag"] if period is None else ["period", "hashtag"]
    frame = _frame(db, query, [*names, "posts", "account_days"], dates=[] if period is None else ["period"])
    return frame.astype({"posts": "int64", "account_days": "int64"})  # PostgreSQL sums bigints as numeric


def cell_top_days(db: Database, filters: PostFilters, dims: Sequence[str]) -> pd.DataFrame:
    """The engagement of the most engaged post per value of `dims` and day: *dims, day, max_engagement."""
    _check(filters, "day", dims)
    cut = _slice(filters, dims)
    t: Any = RollupDaily if cut is None else RollupSliceDaily
    where = _where(t, filters, dims) if cut is None else _slice_where(t, filters, cut)
    keys = [*(_dim_column(t, d, cut) for d in dims), t.day]
    query = select(*keys, func.max(t.max_engagement)).where(where).group_by(*keys)
    return _frame(db, query, [*dims, "day", "max_engagement"], dates=["day"])


def hashtag_accounts(db: Database, filters: PostFilters, tags: Sequence[str], *,
                     period: str | None = None) -> pd.DataFrame:
    """Distinct accounts (platform + id) using each of `tags` in the window, per period if given:
    [period,] hashtag, accounts. Only the window and platforms of `filters` apply."""
    return hashtag_accounts_per(db, filters, tags, [period])[0]


def hashtag_accounts_per(db: Database, filters: PostFilters, tags: Sequence[str],
                         periods: Sequence[str | None]) -> list[pd.DataFrame]:
    """`hashtag_accounts` for each of `periods` (None: the whole window), from one read.

    Read from the hashtag account sets (`radpulse.db.hashtag_sets`): one row per tag, day and
    platform holding its accounts' numbers; a period's distinct accounts are the size of the
    union of its rows' sets (a year of the five busiest tags: ~5,000 small sets instead of
    ~250,000 (tag, day, account) rows)."""
    for period in periods:
        _check(filters, period or "day")
    s = RollupHashtagAccountSet
    chosen = [t.lstrip("#").lower() for t in tags]
    where = [*day_window(s.day, filters), s.hashtag.in_(chosen)]
    if filters.platforms:
        where.append(s.platform.in_(filters.platforms))
    with db.engine.connect() as conn:
        rows = conn.execute(select(s.hashtag, s.day, s.accounts).where(*where)).all() if chosen else []
    days = {d: dt.date.fromisoformat(d[:10]) if isinstance(d, str) else d for d in {r[1] for r in rows}}
    out = []
    for period in periods:
        groups: dict[tuple, list[bytes]] = {}
        for tag, day, accounts in rows:
            key = (tag,) if period is None else (_period_start(days[day], period), tag)
            groups.setdefault(key, []).append(accounts)
        names = ["hashtag"] if period is None else ["period", "hashtag"]
        counted = [(*key, _union_size(sets)) for key, sets in sorted(groups.items())]
        out.append(pd.DataFrame(counted, columns=[*names, "accounts"]).astype({"accounts": "int64"}))
    return out


def _union_size(sets: list[bytes]) -> int:
    """How many distinct account numbers the stored sets hold together."""
    if len(sets) == 1:
        return len(sets[0]) // 8
    return int(np.unique(np.concatenate([unpack(b) for b in sets])).size)


def _period_start(day: dt.date, period: str) -> dt.date:
    """The first day of the day, ISO week (Monday) or month that `day` falls in (as `_period`)."""
    if period == "day":
        return day
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def articles(db: Database, filters: PostFilters = PostFilters(), *, limit: int = 20) -> pd.DataFrame:
    """The most-mentioned articles of the window: article_id, mentions, one column per platform.

    Only the window and platforms of `filters` apply.
    """
    _check(filters)
    r = RollupArticleDaily
    query = (select(r.article_id, r.platform, func.sum(r.mentions), func.sum(r.authors))
             .where(_where(r, filters, facets=False)).group_by(r.article_id, r.platform))
    long = _frame(db, query, ["article_id", "platform", "mentions", "account_days"])
    long = long.astype({"mentions": "int64", "account_days": "int64"})  # PostgreSQL sums bigints as numeric
    if long.empty:
        return pd.DataFrame(columns=["article_id", "mentions", "account_days"])
    wide = long.pivot_table(index="article_id", columns="platform", values="mentions", fill_value=0, aggfunc="sum")
    sums = long.groupby("article_id")[["mentions", "account_days"]].sum()
    out = sums.join(wide).reset_index().sort_values(["mentions", "article_id"], ascending=[False, True])
    return out.head(limit).reset_index(drop=True)
