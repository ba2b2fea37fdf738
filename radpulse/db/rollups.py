"""Rollups: the dashboard's counts, pre-aggregated per day, refreshed only for the days touched.

The tables (see the models): `rollup_daily` (public posts and engagement per day x platform x
source x subspecialty x theme x sentiment x author type x language), `rollup_author_daily` (the
same per account, so distinct accounts over any window are a COUNT DISTINCT on it),
`rollup_hashtag_daily`, `rollup_hashtag_author_daily` (which accounts used a hashtag on a day, so
distinct accounts of a hashtag over any window are exact), `rollup_article_daily`,
`rollup_slice_daily` (`rollup_daily` cut by one dimension at a time, from its rows) and
`rollup_slice_monthly` (those summed per calendar month, for the months refreshed),
`rollup_hashtag_account_sets` (the accounts of each hashtag, day and platform as one set:
radpulse/db/hashtag_sets.py), `rollup_mention_daily` (each public post's citations with what the
attention score reads of the post),
`rollup_accounts_lag` (distinct accounts of the windows ending each day, by length, from
`rollup_account_daily`: every day from the first refreshed one on is recomputed), and for the
People and account pages `rollup_account_daily` (one narrow row per account and day),
`rollup_author_type_daily`, `rollup_edge_daily` (the network's public edges per day) and two
tables kept from those: `rollup_account_totals` (each account over all days, adjusted by the
difference of the refreshed days) and `rollup_author_type_monthly` (distinct accounts per
calendar month, recounted for the months of the refreshed days). Only public posts count: the
read layer's `public_where` (not deleted, not held) selects them, `engagement` weighs them.

A refresh DELETEs the rows of the given days and INSERTs them again with one grouped
INSERT ... SELECT per table, on both SQLite and PostgreSQL, in the caller's transaction; like a
TimescaleDB continuous aggregate, only the changed buckets are recomputed. Writers that touch
many small batches (collection, analysis) instead *mark* their days stale in the batch's own
transaction (`mark_days`), and `refresh_stale_rollups` refreshes them once at the end: a crash in
between loses nothing, the marks stay until the next refresh.

Multi-valued dimensions: a post is in one row per source that matched it and per theme it
carries, plus once in the "*" (any) row of each, which totals read. Days are UTC dates.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    literal,
    and_,
    delete,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.sql.expression import ColumnElement

from radpulse.db.account_rollups import refresh_account_totals, refresh_accounts_lag, refresh_author_type_months
from radpulse.db.days import as_dates, day_of, day_ranges, day_start, month_of, next_month, utc_day  # noqa: F401 - re-exported
from radpulse.db.engine import Database, insert_for
from radpulse.db.hashtag_sets import refresh_hashtag_sets
from radpulse.db.models import (
    Annotation,
    Author,
    Interaction,
    Mention,
    Post,
    PostSource,
    SLICE_DIMENSIONS,
    RollupAccountsLag,
    RollupAccountDaily,
    RollupAccountTotal,
    RollupArticleDaily,
    RollupAuthorDaily,
    RollupAuthorTypeDaily,
    RollupAuthorTypeMonthly,
    RollupDaily,
    RollupEdgeDaily,
    RollupHashtagAccountSet,
    RollupHashtagAuthorDaily,
    RollupHashtagDaily,
    RollupMentionDaily,
    RollupSliceDaily,
    RollupSliceMonthly,
    RollupStaleDay,
    Source,
    TrendStaleDay,
)
from radpulse.db.queries.filters import PostFilters, public_where
from radpulse.db.queries.mentions import kind_of
from radpulse.db.queries.metrics import engagement
from radpulse.db.queries.privacy import ANNOTATOR_NAME

P = Post.__table__.c
#: the tables with a row per day (a refresh deletes and inserts the days' rows)
TABLES = (RollupDaily, RollupAuthorDaily, RollupHashtagDaily, RollupHashtagAuthorDaily, RollupArticleDaily,
          RollupAccountDaily, RollupAuthorTypeDaily, RollupEdgeDaily, RollupMentionDaily, RollupSliceDaily)
#: the tables kept from other rollups: from `rollup_account_daily`, the monthly slices from
#: `rollup_slice_daily`, the hashtag account sets from `rollup_hashtag_author_daily`
DERIVED = (RollupAccountTotal, RollupAuthorTypeMonthly, RollupSliceMonthly, RollupHashtagAccountSet)
#: days deleted or marked per statement (bound-parameter limits)
_CHUNK = 500


def _json_elements(column: Any, dialect: str, name: str) -> tuple[Any, ColumnElement]:
    """A FROM item with one row (`value`) per element of a JSON array, and "is the first element"."""
    if dialect == "sqlite":
        each = func.json_each(column).table_valued("value", "key").alias(name)
        return each, each.c.key == literal_column("0")
    each = func.jsonb_array_elements_text(column).table_valued("value", with_ordinality="n").render_derived(name)
    each = each.lateral(name)
    return each, each.c.n == literal_column("1")


def _base(days: Sequence[dt.date], dialect: str) -> Any:
    """CTE: one row per public post of `days`, with its dimensions and counters."""
    ann = Annotation.__table__.alias("ra")
    au = Author.__table__.alias("rau")
    ps, s = PostSource.__table__.alias("fps"), Source.__table__.alias("fs")
    window = or_(false(), *(and_(P.created_at >= day_start(a), P.created_at < day_start(b) + dt.timedelta(days=1))
                            for a, b in day_ranges(days)))
    return (
        select(
            P.id.label("post_id"), utc_day(P.created_at, dialect).label("day"), P.platform,
            P.author_external_id.label("author_id"), P.hashtags,
            func.coalesce(P.language, "").label("language"),
            func.coalesce(au.c.author_type, "").label("author_type"),
            func.coalesce(ann.c.subspecialty, "").label("subspecialty"),
            func.coalesce(ann.c.sentiment, "").label("sentiment"),
            ann.c.themes,
            select(func.min(s.c.name)).select_from(ps.join(s, s.c.id == ps.c.source_id))
            .where(ps.c.post_id == P.id).scalar_subquery().label("first_source"),
            # the post's sources as a JSON array: a lookup by post id per post, whatever the
            # planner thinks of post_sources (a join lets it scan the whole table)
            select(func.json_group_array(s.c.name) if dialect == "sqlite" else func.jsonb_agg(s.c.name))
            .select_from(ps.join(s, s.c.id == ps.c.source_id))
            .where(ps.c.post_id == P.id).scalar_subquery().label("sources"),
            engagement(P).label("engagement"),
            func.coalesce(P.like_count, 0).label("likes"), func.coalesce(P.repost_count, 0).label("reposts"),
            func.coalesce(P.reply_count, 0).label("replies"), func.coalesce(P.quote_count, 0).label("quotes"),
            func.coalesce(P.score, 0).label("score"),
        )
        .select_from(
            Post.__table__
            .outerjoin(ann, and_(ann.c.post_id == P.id, ann.c.model_name == ANNOTATOR_NAME))
            .outerjoin(au, and_(au.c.platform == P.platform, au.c.external_id == P.author_external_id))
        )
        .where(window, public_where(PostFilters(), P))
        .cte("rb")
    )


@contextlib.contextmanager
def _materialised_base(conn: Connection, days: Sequence[dt.date]) -> Iterator[Any]:
    """`_base(days)` computed once into a temporary table for the statements that read it (eight
    INSERT ... SELECTs would otherwise each join posts, annotations, authors and sources again);
    dropped afterwards. Yields the table (its columns are the CTE's)."""
    from sqlalchemy import JSON, Column, MetaData, Table
    from sqlalchemy.dialects.postgresql import JSONB
    from sqlalchemy.types import NullType

    dialect = conn.dialect.name
    query = _base(days, dialect).element
    json_type = JSONB() if dialect == "postgresql" else JSON()
    columns = [Column(c.name, json_type if isinstance(c.type, NullType) or c.name in ("hashtags", "themes", "sources")
                      else c.type) for c in query.selected_columns]
    table = Table("radpulse_rollup_base", MetaData(), *columns, prefixes=["TEMPORARY"])
    table.drop(conn, checkfirst=True)  # left by a connection whose transaction failed
    table.create(conn)
    try:
        conn.execute(insert(table).from_select([c.name for c in columns], query))
        yield table
    finally:
        table.drop(conn, checkfirst=True)


def _inserts(days: Sequence[dt.date], dialect: str, base: Any = None) -> dict[Any, Any]:
    """The INSERT ... SELECT statement that fills each day-keyed rollup table for `days` (from
    `base`, `_materialised_base`'s table, when given; else from the CTE)."""
    b = _base(days, dialect) if base is None else base
    source, _ = _json_elements(b.c.sources, dialect, "rsx")
    theme, first_theme = _json_elements(b.c.themes, dialect, "rt")
    expanded = b.outerjoin(source, true()).outerjoin(theme, true())
    none = literal_column("''")  # literal SQL, not a parameter: PostgreSQL matches GROUP BY by text
    dims = [b.c.day, b.c.platform, func.coalesce(source.c.value, none), b.c.subspecialty,
            func.coalesce(theme.c.value, none), b.c.sentiment, b.c.author_type, b.c.language,
            func.coalesce(source.c.value == b.c.first_source, true()), func.coalesce(first_theme, true())]
    dim_names = ["day", "platform", "source", "subspecialty", "theme", "sentiment", "author_type", "language",
                 "first_source", "first_theme"]
    posts = insert(RollupDaily).from_select(
        [*dim_names, "posts", "engagement", "likes", "reposts", "replies", "quotes", "score", "max_engagement"],
        select(*dims, func.count(), *(func.sum(b.c[n]) for n in
                                      ("engagement", "likes", "reposts", "replies", "quotes", "score")),
               func.max(b.c.engagement))
        .select_from(expanded).group_by(*dims),
    )
    authors = insert(RollupAuthorDaily).from_select(
        [*dim_names, "author_id", "posts", "engagement"],
        select(*dims, b.c.author_id, func.count(), func.sum(b.c.engagement))
        .select_from(expanded).where(b.c.author_id.is_not(None)).group_by(*dims, b.c.author_id),
    )
    tag, _ = _json_elements(b.c.hashtags, dialect, "rh")
    tag_value = func.lower(tag.c.value)
    hashtags = insert(RollupHashtagDaily).from_select(
        ["day", "platform", "hashtag", "posts", "authors"],
        select(b.c.day, b.c.platform, tag_value, func.count(b.c.post_id.distinct()), func.count(b.c.author_id.distinct()))
        .select_from(b.join(tag, true())).group_by(b.c.day, b.c.platform, tag_value),
    )
    tag_authors = insert(RollupHashtagAuthorDaily).from_select(
        ["hashtag", "day", "platform", "author_id"],
        select(tag_value, b.c.day, b.c.platform, b.c.author_id).select_from(b.join(tag, true()))
        .where(b.c.author_id.is_not(None)).group_by(tag_value, b.c.day, b.c.platform, b.c.author_id),
    )
    m = Mention.__table__
    articles = insert(RollupArticleDaily).from_select(
        ["day", "platform", "article_id", "mentions", "authors"],
        select(b.c.day, b.c.platform, m.c.article_id, func.count(), func.count(b.c.author_id.distinct()))
        .select_from(b.join(m, m.c.post_id == b.c.post_id)).group_by(b.c.day, b.c.platform, m.c.article_id),
    )
    accounts = insert(RollupAccountDaily).from_select(
        ["platform", "author_id", "day", "author_type", "posts", "engagement", "max_engagement"],
        select(b.c.platform, b.c.author_id, b.c.day, func.max(b.c.author_type), func.count(), func.sum(b.c.engagement),
               func.max(b.c.engagement))
        .where(b.c.author_id.is_not(None)).group_by(b.c.platform, b.c.author_id, b.c.day),
    )
    types = insert(RollupAuthorTypeDaily).from_select(
        ["day", "platform", "author_type", "posts", "engagement"],
        select(b.c.day, b.c.platform, b.c.author_type, func.count(), func.sum(b.c.engagement))
        .group_by(b.c.day, b.c.platform, b.c.author_type),
    )
    e = Interaction.__table__.c
    edges = insert(RollupEdgeDaily).from_select(
        ["day", "platform", "source", "target", "kind", "interactions"],
        select(b.c.day, b.c.platform, e.source, e.target, e.kind, func.count())
        .select_from(b.join(Interaction.__table__, e.post_id == b.c.post_id))
        .where(e.target.is_not(None), e.source != e.target)
        .group_by(b.c.day, b.c.platform, e.source, e.target, e.kind),
    )
    return dict(zip(TABLES, [posts, authors, hashtags, tag_authors, articles, accounts, types, edges,
                             mention_rollup_insert(b)]))


def mention_rollup_insert(public: Any) -> Any:
    """INSERT ... SELECT of `rollup_mention_daily` for the posts of `public` (a selectable of public
    posts with post_id, day, platform and author_id: the refresh's base, or every public post)."""
    cited = Post.__table__.alias("mp")
    m, p = Mention.__table__.c, cited.c
    kind = kind_of(p)  # the read layer's rule, as a read from the posts tells it
    return insert(RollupMentionDaily).from_select(
        ["day", "post_id", "article_id", "platform", "author_id", "created_at", "kind", "likes", "reposts", "replies"],
        select(public.c.day, public.c.post_id, m.article_id, public.c.platform, public.c.author_id, p.created_at, kind,
               p.like_count, p.repost_count, p.reply_count)
        .select_from(public.join(Mention.__table__, m.post_id == public.c.post_id).join(cited, p.id == public.c.post_id)))


def _slice_inserts(days: Sequence[dt.date]) -> list[Any]:
    """INSERT ... SELECT of `rollup_slice_daily` for `days`, from their `rollup_daily` rows."""
    t = RollupDaily.__table__.c
    counts = ("posts", "engagement", "likes", "reposts", "replies", "quotes", "score")
    out = []
    for dim in SLICE_DIMENSIONS:
        where = [t.day.in_(list(days))]
        if dim != "source":
            where.append(t.first_source.is_(True))
        if dim != "theme":
            where.append(t.first_theme.is_(True))
        keys = [t.day, t.platform, *([getattr(t, dim)] if dim else []), t.sentiment]
        value = getattr(t, dim) if dim else literal_column("''")
        out.append(insert(RollupSliceDaily).from_select(
            ["day", "platform", "dim", "value", "sentiment", *counts, "max_engagement"],
            select(t.day, t.platform, literal_column(f"'{dim}'"), value, t.sentiment,
                   *(func.sum(getattr(t, c)) for c in counts), func.max(t.max_engagement))
            .where(*where).group_by(*keys)))
    return out


def refresh_slice_months(conn: Connection, months: Iterable[dt.date]) -> None:
    """Recompute `rollup_slice_monthly` for `months` (first days) from their `rollup_slice_daily` rows."""
    t, m = RollupSliceDaily.__table__.c, RollupSliceMonthly
    counts = ("posts", "engagement", "likes", "reposts", "replies", "quotes", "score")
    for month in sorted(set(months)):
        conn.execute(delete(m).where(m.month == month))
        keys = [t.dim, t.platform, t.value, t.sentiment]
        conn.execute(insert(m).from_select(
            ["dim", "month", "platform", "value", "sentiment", *counts, "max_engagement"],
            select(t.dim, literal(month, Date()), t.platform, t.value, t.sentiment,
                   *(func.sum(getattr(t, c)) for c in counts), func.max(t.max_engagement))
            .where(t.day >= month, t.day < next_month(month)).group_by(*keys)))


def _connection(conn_or_db: Connection | Database) -> tuple[Connection, Any]:
    if isinstance(conn_or_db, Database):
        ctx = conn_or_db.engine.begin()
        return ctx.__enter__(), ctx
    return conn_or_db, None


def refresh_rollups(conn_or_db: Connection | Database, days: Iterable[dt.date]) -> int:
    """Recompute every rollup row of `days` (and clear their stale marks); the number of days.

    With a connection the work joins its transaction; with a `Database`, one of its own.
    """
    wanted = sorted(set(days))
    if not wanted:
        return 0
    conn, ctx = _connection(conn_or_db)
    try:
        _refresh(conn, wanted)
    except BaseException as exc:
        if ctx is not None:
            ctx.__exit__(type(exc), exc, exc.__traceback__)
        raise
    if ctx is not None:
        ctx.__exit__(None, None, None)
    return len(wanted)


def _refresh(conn: Connection, days: list[dt.date]) -> None:
    with _no_jit(conn), _mapped(conn):
        for start in range(0, len(days), _CHUNK):
            chunk = days[start : start + _CHUNK]
            refresh_account_totals(conn, chunk, -1)
            for model in (*TABLES, RollupStaleDay):
                conn.execute(delete(model).where(model.day.in_(chunk)))
            with _materialised_base(conn, chunk) as base:
                for stmt in _inserts(chunk, conn.dialect.name, base).values():
                    conn.execute(stmt)
            for stmt in _slice_inserts(chunk):
                conn.execute(stmt)
            refresh_hashtag_sets(conn, chunk)
            refresh_account_totals(conn, chunk, 1)
        refresh_author_type_months(conn, map(month_of, days))
        refresh_slice_months(conn, map(month_of, days))
    refresh_accounts_lag(conn, days[0])


#: SQLite: bytes of the database file a refresh reads through a memory map
REFRESH_MMAP_BYTES = 1 << 31


@contextlib.contextmanager
def _mapped(conn: Connection) -> Iterator[None]:
    """SQLite: the refresh reads the database file through a memory map (then the connection's
    setting again). The posts of a day are spread over the file (collected late, edited, or the
    demo's random order), and each one read through SQLite's page cache is a 16 KiB copy; mapped,
    a refresh after 10,000 new posts at a million reads them in about half the time. (A memory
    map turns a disk I/O error into a signal instead of an error; only for this short read.)"""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA mmap_size").scalar()
    conn.exec_driver_sql(f"PRAGMA mmap_size={int(REFRESH_MMAP_BYTES)}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA mmap_size={int(before or 0)}")


@contextlib.contextmanager
def _no_jit(conn: Connection) -> Iterator[None]:
    """PostgreSQL: no JIT compilation for these statements (then the caller's setting again).

    The planner cannot know how many elements the JSON arrays hold, estimates millions of rows
    and JIT-compiles the query: ~0.4 s of compilation for a refresh that runs in less.
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    before = conn.exec_driver_sql("SELECT current_setting('jit')").scalar()
    conn.exec_driver_sql("SELECT set_config('jit', 'off', true)")
    try:
        yield
    finally:
        conn.exec_driver_sql("SELECT set_config('jit', %(v)s, true)", {"v": before})


def rebuild_rollups(db: Database, *, days_per_step: int = 31,
                    progress: Callable[[int, int], None] | None = None) -> int:
    """Empty every rollup table and fill it again from `posts`, in one transaction.

    `progress(done_days, total_days)` after each step of `days_per_step` days. Returns the days.
    """
    with db.engine.begin() as conn:
        for model in (*TABLES, *DERIVED, RollupStaleDay, RollupAccountsLag):
            conn.execute(delete(model))
        all_days = _post_days(conn)
        for start in range(0, len(all_days), days_per_step):
            step = all_days[start : start + days_per_step]
            with _no_jit(conn), _materialised_base(conn, step) as base:
                for stmt in [*_inserts(step, conn.dialect.name, base).values(), *_slice_inserts(step)]:
                    conn.execute(stmt)
            refresh_hashtag_sets(conn, step)
            if progress:
                progress(min(start + days_per_step, len(all_days)), len(all_days))
        refresh_account_totals(conn, None, 1)
        refresh_author_type_months(conn, map(month_of, all_days))
        refresh_slice_months(conn, map(month_of, all_days))
        if all_days:  # an empty database has nothing to lag
            refresh_accounts_lag(conn, all_days[0])
        return len(all_days)


def _post_days(conn: Connection) -> list[dt.date]:
    """Every day from the first post's to the last post's."""
    first, last = conn.execute(select(func.min(P.created_at), func.max(P.created_at))).one()
    if first is None:
        return []
    if isinstance(first, str):  # SQLite: min/max of the stored text
        first, last = dt.datetime.fromisoformat(first), dt.datetime.fromisoformat(last)
    lo, hi = first.replace(tzinfo=first.tzinfo or dt.timezone.utc), last.replace(tzinfo=last.tzinfo or dt.timezone.utc)
    return [day_of(lo) + dt.timedelta(days=i) for i in range((day_of(hi) - day_of(lo)).days + 1)]


def rebuild_edge_rollups(db: Database, *, days_per_step: int = 31) -> None:
    """Empty `rollup_edge_daily` and fill it again from `interactions` (after the edges are
    rebuilt), in one transaction."""
    with db.engine.begin() as conn:
        conn.execute(delete(RollupEdgeDaily))
        days = _post_days(conn)
        for start in range(0, len(days), days_per_step):
            with _no_jit(conn):
                conn.execute(_inserts(days[start : start + days_per_step], conn.dialect.name)[RollupEdgeDaily])


def mark_days(conn: Connection, days: Iterable[dt.date]) -> None:
    """Mark `days` stale, in the caller's transaction (`refresh_stale_rollups` refreshes them; the
    analysis job refreshes the stored trends of the days marked with them)."""

    wanted = sorted(set(days))
    for start in range(0, len(wanted), _CHUNK):
        rows = [{"day": d} for d in wanted[start : start + _CHUNK]]
        for table in (RollupStaleDay.__table__, TrendStaleDay.__table__):  # trends: analysis/trends.py
            conn.execute(insert_for(conn, table).on_conflict_do_nothing(index_elements=["day"]), rows)


def mark_post_days(conn: Connection, post_ids: Iterable[int]) -> None:
    """Mark stale the days of these posts."""
    ids = sorted(set(post_ids))
    for start in range(0, len(ids), _CHUNK):
        day = utc_day(P.created_at, conn.dialect.name)
        mark_days(conn, as_dates(conn.execute(select(day).where(P.id.in_(ids[start : start + _CHUNK])).distinct()).scalars()))


def mark_author_days(conn: Connection, authors: Iterable[tuple[str, str]]) -> None:
    """Mark stale the days on which these (platform, external_id) accounts posted."""
    by_platform: dict[str, list[str]] = {}
    for platform, external_id in authors:
        by_platform.setdefault(platform, []).append(external_id)
    day = utc_day(P.created_at, conn.dialect.name)
    for platform, ids in by_platform.items():
        for start in range(0, len(ids), _CHUNK):
            query = select(day).where(P.platform == platform, P.author_external_id.in_(ids[start : start + _CHUNK]))
            mark_days(conn, as_dates(conn.execute(query.distinct()).scalars()))


def mark_batch_days(conn: Connection, batch: Any, post_ids: dict[Any, int]) -> None:
    """After-batch step of collection: mark the days of the batch's posts (new, updated, deleted)."""
    mark_days(conn, {day_of(p.created_at) for p in batch.posts if p.created_at is not None})


#: advisory lock key of the rollup refresh ("radpulse rollups" in ASCII, fits a bigint)
ROLLUP_LOCK_KEY = 0x7261647075_6C7365


def refresh_stale_rollups(db: Database, *, wait: bool = True) -> int:
    """Refresh every day marked stale, in one transaction; the number of days refreshed.

    On PostgreSQL one process at a time (a transaction-level advisory lock): two `radpulse run`
    refreshing the same days at once would collide on the rows they both rewrite. With
    `wait=False` (after each source the scheduler collects) a refresh running in another process
    is not waited for: this returns 0 at once, and the marks that refresh did not see stay for the
    next one (two workers would otherwise take turns, each waiting for the other's refresh)."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            if wait:
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%(k)s)", {"k": ROLLUP_LOCK_KEY})
            elif not conn.exec_driver_sql("SELECT pg_try_advisory_xact_lock(%(k)s)", {"k": ROLLUP_LOCK_KEY}).scalar():
                return 0
        days = as_dates(conn.execute(select(RollupStaleDay.day)).scalars())
        refresh_rollups(conn, days)
    return len(days)
