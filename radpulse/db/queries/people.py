"""Reading the account rollups: the People and account pages' rankings, activity and author
types, from the narrow per-account tables (`rollup_account_daily`, `rollup_account_totals`,
`rollup_author_type_daily` / `_monthly`) when only the window, platforms and author types are
chosen, else from `rollup_author_daily`. The counting rules are those of `queries.rollups`.
`authors_of` looks stored accounts up by key (the research exports' handles and types)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd
import orjson
from sqlalchemy import and_, func, select, text, true

from radpulse.db.engine import Database
from radpulse.db.models import (
    RollupAccountDaily,
    RollupAccountTotal,
    RollupAuthorDaily,
    RollupAuthorTypeDaily,
    RollupAuthorTypeMonthly,
)
from radpulse.db.queries.filters import PostFilters
from radpulse.db.queries.rollups import _check, _frame, _period, _where, day_bounds, day_window

POST_FACETS = ("sources", "subspecialties", "themes", "sentiments", "languages")
#: accounts read by their totals before a ranking is aggregated over the whole window instead
_MAX_CANDIDATES = 5000


#: keys looked up per statement
_AUTHOR_BATCH = 20_000
#: the accounts of a list of (platform, external_id) keys, passed as one parameter (a JSON array
#: on SQLite, two arrays on PostgreSQL): one statement per batch, whatever its size
_AUTHORS_OF = {
    "sqlite": text("SELECT a.platform, a.external_id, a.handle, a.author_type FROM json_each(:keys) AS k "
                   "JOIN authors AS a ON a.platform = json_extract(k.value, '$[0]') "
                   "AND a.external_id = json_extract(k.value, '$[1]')"),
    "postgresql": text("SELECT a.platform, a.external_id, a.handle, a.author_type "
                       "FROM unnest(CAST(:platforms AS text[]), CAST(:ids AS text[])) AS k(platform, external_id) "
                       "JOIN authors AS a ON a.platform = k.platform AND a.external_id = k.external_id"),
}


def authors_of(db: Database, keys: Sequence[tuple[str, str]]) -> list[tuple[str, str, str | None, str | None]]:
    """(platform, external_id, handle, author_type) of the stored accounts among these
    (platform, external_id) keys; keys with no stored account are left out."""
    rows: list[tuple[str, str, str | None, str | None]] = []
    with db.engine.connect() as conn:
        for batch in _batches(keys):
            if db.dialect == "sqlite":
                params = {"keys": orjson.dumps(batch).decode()}
            else:
                params = {"platforms": [p for p, _ in batch], "ids": [e for _, e in batch]}
            rows += [tuple(r) for r in conn.execute(_AUTHORS_OF[db.dialect], params)]
    return rows


def authors_of_file(path: str, keys: Sequence[tuple[str, str]]) -> list[tuple[str, str, str | None, str | None]]:
    """`authors_of` on the SQLite file at `path` read through ADBC, for a worker process that opens
    the file with ADBC alone (`radpulse.db.arrow_read`)."""
    from radpulse.db.arrow_read import read_sql

    sql = _AUTHORS_OF["sqlite"].text.replace(":keys", "?")
    names = ("platform", "external_id", "handle", "author_type")
    rows: list = []
    for batch in _batches(keys):
        table = read_sql(path, sql, (orjson.dumps(batch).decode(),), dict.fromkeys(names, "text"))
        if table is None:  # the caller has just read posts through ADBC: this is not expected
            raise RuntimeError(f"could not read the accounts of {path} through ADBC")
        rows += zip(*(table.column(n).to_pylist() for n in names))
    return rows


def _batches(keys: Sequence[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    keys = list(keys)
    for start in range(0, len(keys), _AUTHOR_BATCH):
        yield keys[start:start + _AUTHOR_BATCH]


def on_accounts(filters: PostFilters) -> bool:
    """True when the per-account tables answer for `filters`: window, platforms, author types."""
    return not any(getattr(filters, name) for name in POST_FACETS)


def _account_where(t: Any, filters: PostFilters, *, window: bool = True) -> Any:
    """Conditions on a per-account or per-author-type table for the window, platforms, author types."""
    clauses = day_window(t.day, filters) if window else []
    if filters.platforms:
        clauses.append(t.platform.in_(filters.platforms))
    if filters.author_types:
        clauses.append(t.author_type.in_(filters.author_types))
    return and_(true(), *clauses)


def account_sums(db: Database, filters: PostFilters, accounts: Sequence[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int]]:
    """(posts, engagement) in the window of each of these (platform, author_id) accounts that posted
    in it (window, platforms and author types of `filters`)."""
    _check(filters)
    a = RollupAccountDaily
    out: dict[tuple[str, str], tuple[int, int]] = {}
    by_platform: dict[str, list[str]] = {}
    for platform, author_id in sorted(set(accounts)):
        if not filters.platforms or platform in filters.platforms:
            by_platform.setdefault(platform, []).append(author_id)
    window = _account_where(a, replace(filters, platforms=()))
    with db.engine.connect() as conn:
        # per platform, `author_id IN (...)`: an index seek per account on (platform, author_id, day)
        for platform, ids in by_platform.items():
            for start in range(0, len(ids), 500):
                query = (select(a.author_id, func.sum(a.posts), func.sum(a.engagement))
                         .where(a.platform == platform, a.author_id.in_(ids[start:start + 500]), window)
                         .group_by(a.author_id))
                out.update({(platform, i): (int(n), int(e)) for i, n, e in conn.execute(query)})
    return out


def top_accounts(db: Database, filters: PostFilters = PostFilters(), *, limit: int = 20) -> pd.DataFrame:
    """The accounts with most engagement in the window: platform, author_id, posts, engagement
    (ties: more posts, then platform and id).

    Without post facets (sources, labels, languages) the ranking reads each account's total over
    all days (`rollup_account_totals`), most engaged first, and sums the window only for those
    accounts, until no total left can reach the ranking: a few dozen accounts for a year, a few
    hundred for a month. With post facets it sums `rollup_author_daily` over the window."""
    _check(filters)
    columns = ["platform", "author_id", "posts", "engagement"]
    if on_accounts(filters):
        found = _top_by_totals(db, filters, limit)
        if found is not None:
            ranked = sorted(found.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))[:limit]
            return pd.DataFrame([(p, i, n, e) for (p, i), (n, e) in ranked], columns=columns).astype(
                {"posts": "int64", "engagement": "int64"})
        a = RollupAccountDaily
        where = _account_where(a, filters)
    else:
        a = RollupAuthorDaily
        where = _where(a, filters)
    posts, eng = func.sum(a.posts).label("posts"), func.sum(a.engagement).label("engagement")
    query = (select(a.platform, a.author_id, posts, eng).where(where)
             .group_by(a.platform, a.author_id).order_by(eng.desc(), posts.desc(), a.platform, a.author_id).limit(limit))
    return _frame(db, query, columns)


def _top_by_totals(db: Database, filters: PostFilters, limit: int) -> dict[tuple[str, str], tuple[int, int]] | None:
    """The window's sums of the accounts whose total can reach the top `limit` (a superset of the
    ranking), or None when more than `_MAX_CANDIDATES` accounts would have to be read."""
    t = RollupAccountTotal
    found: dict[tuple[str, str], tuple[int, int]] = {}
    seen, step = 0, max(2 * limit, 50)
    while seen < _MAX_CANDIDATES:
        with db.engine.connect() as conn:
            bounds = conn.execute(select(t.platform, t.author_id, t.engagement)
                                  .where(_account_where(t, filters, window=False))
                                  .order_by(t.engagement.desc(), t.platform, t.author_id)
                                  .limit(step).offset(seen)).all()
        seen += len(bounds)
        found.update(account_sums(db, filters, [(p, i) for p, i, _ in bounds]))
        if len(bounds) < step:
            return found  # every account read
        best = sorted((e for _, e in found.values()), reverse=True)
        if len(best) >= limit and bounds[-1][2] < best[limit - 1]:
            return found  # no account left can reach the ranking
        step = min(4 * step, 2000)
    return None


def author_type_mix(db: Database, filters: PostFilters = PostFilters()) -> pd.DataFrame:
    """Posts per author type in the window and the distinct accounts of its busiest calendar
    month (the part of the month inside the window): author_type, posts, accounts.

    Only the window, platforms and author types of `filters` apply (see `on_accounts`). Whole
    months read `rollup_author_type_monthly`, the window's partial months `rollup_account_daily`."""
    _check(filters)
    if not on_accounts(filters):
        raise ValueError("author_type_mix applies the window, platforms and author types only.")
    c, m, a = RollupAuthorTypeDaily, RollupAuthorTypeMonthly, RollupAccountDaily
    posts = _frame(db, select(c.author_type, func.sum(c.posts)).where(_account_where(c, filters))
                   .group_by(c.author_type), ["author_type", "posts"])
    first, last = day_bounds(filters)
    with db.engine.connect() as conn:
        if first is None or last is None:  # an open window: its bounds are the stored days'
            lo, hi = conn.execute(select(func.min(a.day), func.max(a.day))).one()
            if lo is None:
                return pd.DataFrame(columns=["author_type", "posts", "accounts"])
            as_date = lambda v: v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))  # noqa: E731
            first, last = first or as_date(lo), last or as_date(hi) + dt.timedelta(days=1)
        rows: list[tuple[Any, str, int]] = []
        month = first.replace(day=1)
        whole: list[dt.date] = []
        while month < last:
            following = (month + dt.timedelta(days=32)).replace(day=1)
            if month >= first and following <= last:
                whole.append(month)
            else:
                lo, hi = max(month, first), min(following, last)
                query = (select(a.author_type, func.count(a.author_id.distinct()))
                         .where(a.day >= lo, a.day < hi, _account_where(a, filters, window=False))
                         .group_by(a.platform, a.author_type))
                rows.extend((month, kind, n) for kind, n in conn.execute(query))
            month = following
        if whole:
            query = (select(m.month, m.author_type, m.accounts)
                     .where(m.month.in_(whole), _account_where(m, filters, window=False)))
            rows.extend(conn.execute(query).all())
    months = pd.DataFrame([tuple(r) for r in rows], columns=["month", "author_type", "accounts"])
    # no type row ('') is the type "unknown" too: one group, its busiest month counted over both
    months["author_type"] = months["author_type"].replace("", "unknown")
    posts = posts.assign(author_type=posts["author_type"].replace("", "unknown")).groupby(
        "author_type", as_index=False)["posts"].sum()
    accounts = months.groupby(["month", "author_type"])["accounts"].sum().groupby("author_type").max()
    out = posts.astype({"posts": "int64"}).merge(accounts.rename("accounts").reset_index(), on="author_type", how="left")
    out["accounts"] = out["accounts"].fillna(0).astype("int64")
    return out.sort_values(["posts", "author_type"], ascending=[False, True], ignore_index=True)


def account_volume(db: Database, filters: PostFilters, platform: str, author_id: str, *, period: str = "day",
                   dims: Sequence[str] = ()) -> pd.DataFrame:
    """One account's public posts and engagement per period (and per value of each of `dims`):
    period, *dims, posts, engagement. Every facet of `filters` applies (`rollup_author_daily`;
    `rollup_account_daily` when only the window, platforms and author types are chosen and at
    most the platform is a dimension)."""
    _check(filters, period, dims)
    narrow = on_accounts(filters) and set(dims) <= {"platform"}  # one row per day: rollup_account_daily
    t = RollupAccountDaily if narrow else RollupAuthorDaily
    bucket = _period(t.day, period, db.dialect).label("period")
    keys = [bucket, *(getattr(t, d) for d in dims)]
    query = (select(*keys, func.sum(t.posts), func.sum(t.engagement))
             .where(t.platform == platform, t.author_id == author_id,
                    _account_where(t, filters) if narrow else _where(t, filters, dims))
             .group_by(*keys).order_by(*keys))
    frame = _frame(db, query, ["period", *dims, "posts", "engagement"], dates=["period"])
    return frame.astype({"posts": "int64", "engagement": "int64"})


def account_top_days(db: Database, filters: PostFilters, platform: str, author_id: str) -> pd.DataFrame:
    """The days of the window one account posted publicly on, with the engagement of its most
    engaged public post of each: day, max_engagement (window and platforms of `filters`)."""
    _check(filters)
    a = RollupAccountDaily
    query = select(a.day, a.max_engagement).where(a.platform == platform, a.author_id == author_id,
                                                  _account_where(a, filters)).order_by(a.day)
    return _frame(db, query, ["day", "max_engagement"], dates=["day"])
