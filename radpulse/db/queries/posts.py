"""Pages and streams of public posts.

Streams run in constant memory on both databases and never go through the ORM identity map:
PostgreSQL reads through a server-side cursor; SQLite pages by key (`(created_at, id) > last`
on the `ix_posts_created_at` index, or `id > last` when most of the table is read), one short
read transaction per page, so a long export never holds the database's write lock.
"""

from __future__ import annotations

import re

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Row, event, func, literal, select, tuple_, type_coerce

from radpulse.db.engine import Database
from radpulse.db.models import AS_STORED, Post
from radpulse.db.queries.filters import PostFilters, public_where
from radpulse.db.queries.metrics import engagement

P = Post.__table__.c


#: on SQLite, a read selecting more than this share of the posts goes in storage order
STORAGE_ORDER_SHARE = 1 / 16


def stream_posts(
    db: Database, f: PostFilters, columns: Sequence[Any], *, chunksize: int = 10_000, from_obj: Any = None,
    in_time_order: bool = False, ids: tuple[int, int] | None = None,
) -> Iterator[list[Row]]:
    """Chunks of rows of `columns` (Core columns of `posts`, or expressions over them and over the
    tables joined in `from_obj`) for the posts `f` selects. Each row also carries `_created_at`
    (as stored) and `_id`.

    Chunks come ordered by (created_at, id), except on SQLite when the posts selected are a large
    share of the table (`storage_order`): then by id, which reads the table's pages in order
    instead of one random page per post (for a year of a million posts, several times faster).
    `in_time_order` keeps the (created_at, id) order always, for readers that group by time.
    `ids` = (low, high) reads only the posts with low <= id < high (one part of a parallel read).
    """
    keys = [type_coerce(P.created_at, AS_STORED).label("_created_at"), P.id.label("_id")]
    source = from_obj if from_obj is not None else Post.__table__
    within = [] if ids is None else [P.id >= ids[0], P.id < ids[1]]
    if db.dialect == "postgresql":
        base = select(*columns, *keys).select_from(source).where(public_where(f, P), *within)
        with db.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=chunksize).execute(
                base.order_by(P.created_at, P.id))
            for part in result.partitions(chunksize):
                yield list(part)
        return
    if not in_time_order and storage_order(db, f):
        yield from _by_id(db, select(*columns, *keys).select_from(source).where(public_where(f, _ByRowid())),
                          chunksize, ids)
        return
    base = select(*columns, *keys).select_from(source).where(public_where(f, P), *within)
    last: tuple[Any, Any] | None = None
    while True:
        q = base
        if last is not None:
            # the stored text of the last time, compared as SQLite compares the column (as text)
            q = q.where(tuple_(P.created_at, P.id) > tuple_(literal(last[0], AS_STORED), literal(last[1], P.id.type)))
        with db.engine.connect() as conn:
            rows = conn.execute(q.order_by(P.created_at, P.id).limit(chunksize)).all()
        if not rows:
            return
        yield rows
        if len(rows) < chunksize:
            return
        last = (rows[-1]._created_at, rows[-1]._id)


def arrow_posts_sql(db: Database, f: PostFilters, columns: Sequence[Any], *, from_obj: Any = None,
                    ids: tuple[int, int]) -> tuple[str, tuple]:
    """SQLite: the SQL and parameters that select the posts of `f` with low <= id < high (`ids`), in
    id order: `columns` (labelled) and `_id`, for `radpulse.db.arrow_read.read_sql` in a worker."""
    from radpulse.db.arrow_read import statement_sql

    source = from_obj if from_obj is not None else Post.__table__
    stmt = (select(*columns, P.id.label("_id")).select_from(source)
            .where(public_where(f, _ByRowid()), P.id >= ids[0], P.id < ids[1]).order_by(P.id))
    return statement_sql(db, stmt)


def index_window(f: PostFilters) -> list[Any]:
    """`f`'s dates and platforms as conditions on `posts` (its indexes answer them)."""
    return [c for c in (P.created_at >= f.start if f.start else None, P.created_at < f.end if f.end else None,
                        P.platform.in_(f.platforms) if f.platforms else None) if c is not None]


def time_cuts(db: Database, f: PostFilters, rows: int, count: int) -> list[Any]:
    """The created_at of every (rows/count)-th post in `f`'s dates and platforms (count - 1 values,
    None past the last post), read from the created_at index with OFFSET (SQLite steps an index
    in C: 0.05 s for three cuts at a million posts; a row_number() window took ten times as long)."""
    window = index_window(f)
    with db.engine.connect() as conn:
        return [conn.execute(select(P.created_at).where(*window).order_by(P.created_at)
                             .offset(k * rows // count).limit(1)).scalar() for k in range(1, count)]


def id_ranges(db: Database, parts: Sequence[PostFilters]) -> list[tuple[int, int] | None]:
    """(lowest id, highest id + 1) of the posts in each part's dates and platforms; None for a part
    with none."""
    out: list[tuple[int, int] | None] = []
    with db.engine.connect() as conn:
        for part in parts:
            low, high = conn.execute(select(func.min(P.id), func.max(P.id)).where(*index_window(part))).one()
            out.append(None if low is None else (int(low), int(high) + 1))
    return out


def storage_order(db: Database, f: PostFilters) -> bool:
    """True when `stream_posts` reads SQLite in id order: the posts in `f`'s dates and platforms
    (counted on their index alone) are more than `STORAGE_ORDER_SHARE` of all posts."""
    if db.dialect != "sqlite":
        return False
    window = index_window(f)
    with db.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(Post.__table__)).scalar_one()
        if not window:
            return True
        within = conn.execute(select(func.count()).select_from(Post.__table__).where(*window)).scalar_one()
    return within > total * STORAGE_ORDER_SHARE


class _ByRowid:
    """`posts`' columns for `public_where`, those SQLite has indexes on wrapped in likely() (which
    returns its argument) so that its planner keeps to the rowid range instead of an index."""

    _WRAPPED = frozenset({"created_at", "platform", "language"})

    def __getattr__(self, name: str) -> Any:
        column = getattr(P, name)
        return func.likely(column, type_=column.type) if name in self._WRAPPED else column


def _by_id(db: Database, base: Any, chunksize: int, ids: tuple[int, int] | None = None) -> Iterator[list[Row]]:
    """Keyset pages by id over the ids there were when the read began (within `ids`, low <= id < high)."""
    with db.engine.connect() as conn:
        low, high = conn.execute(select(func.min(P.id), func.max(P.id))).one()
    if low is not None and ids is not None:
        low, high = max(low, ids[0]), min(high, ids[1] - 1)
    if low is None or low > high:
        return
    last = low - 1
    while last < high:
        with db.engine.connect() as conn:
            rows = conn.execute(base.where(P.id > last, P.id <= high).order_by(P.id).limit(chunksize)).all()
        if not rows:
            return
        yield rows
        last = rows[-1]._id


def post_page_query(
    db: Database, f: PostFilters, *, order: str = "engagement", limit: int = 25, offset: int = 0,
    columns: Sequence[Any] | None = None,
) -> Any:
    """The SELECT of `post_page`."""
    eng = engagement(P).label("engagement")
    cols = list(columns) if columns is not None else [
        P.id, P.platform, P.url, P.title, P.text, P.created_at, P.like_count, P.repost_count,
        P.reply_count, P.quote_count, P.score, P.author_external_id]
    q = select(*cols, eng).select_from(Post.__table__).where(public_where(f, P))
    q = q.order_by(eng.desc(), P.id) if order == "engagement" else q.order_by(P.created_at.desc(), P.id.desc())
    return q.limit(limit).offset(offset)


def post_page(
    db: Database, f: PostFilters, *, order: str = "engagement", limit: int = 25, offset: int = 0,
    columns: Sequence[Any] | None = None, by_engagement_index: bool = False,
) -> list[Row]:
    """One page of public posts (for drill-down lists and the digest): by engagement or newest.

    `by_engagement_index` (order "engagement"): read posts in `ix_posts_engagement` order and
    stop at the page, instead of sorting every post of the window. The caller knows when that
    is cheaper (the selection holds a fair share of all posts: `dashboards.data.drill_posts`);
    PostgreSQL's planner weighs it from its statistics, SQLite is told (INDEXED BY)."""
    query = post_page_query(db, f, order=order, limit=limit, offset=offset, columns=columns)
    with db.engine.connect() as conn:
        if by_engagement_index and order == "engagement" and db.dialect == "sqlite":
            _listen_for_hints(db)
            conn = conn.execution_options(posts_index="ix_posts_engagement")
        return conn.execute(query).all()


_OUTER_FROM = re.compile(r"\bFROM posts\b(?! AS)")


def _index_hint(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> Any:
    index = context.execution_options.get("posts_index") if context is not None else None
    if index:
        statement = _OUTER_FROM.sub(f"FROM posts INDEXED BY {index}", statement, count=1)
    return statement, parameters


def _listen_for_hints(db: Database) -> None:
    if not event.contains(db.engine, "before_cursor_execute", _index_hint):
        event.listen(db.engine, "before_cursor_execute", _index_hint, retval=True)
