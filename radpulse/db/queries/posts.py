"""Pages and streams of public posts.

Streams run in constant memory on both databases and never go through the ORM identity map:
PostgreSQL reads through a server-side cursor; SQLite pages by key (`(created_at, id) > last`)
on the `ix_posts_created_at` index, one short read transaction per page, so a long export never
holds the database's write lock.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Row, String, TypeDecorator, literal, select, tuple_, type_coerce

from radpulse.db.engine import Database
from radpulse.db.models import Post
from radpulse.db.queries.filters import PostFilters, public_where
from radpulse.db.queries.metrics import engagement

P = Post.__table__.c


class AsStored(TypeDecorator[object]):
    """A column read back exactly as the driver returns it (SQLite's time text, its 0/1 for
    booleans), for readers that convert whole columns at once."""

    impl = String
    cache_ok = True


AS_STORED = AsStored()


def stream_posts(
    db: Database, f: PostFilters, columns: Sequence[Any], *, chunksize: int = 10_000, from_obj: Any = None,
) -> Iterator[list[Row]]:
    """Chunks of rows of `columns` (Core columns of `posts`, or expressions over them and over the
    tables joined in `from_obj`) for the posts `f` selects, ordered by (created_at, id). Each row
    also carries `_created_at` (as stored) and `_id`."""
    keys = [type_coerce(P.created_at, AS_STORED).label("_created_at"), P.id.label("_id")]
    source = from_obj if from_obj is not None else Post.__table__
    base = select(*columns, *keys).select_from(source).where(public_where(f, P))
    if db.dialect == "postgresql":
        with db.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=chunksize).execute(
                base.order_by(P.created_at, P.id))
            for part in result.partitions(chunksize):
                yield list(part)
        return
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


def post_page(
    db: Database, f: PostFilters, *, order: str = "engagement", limit: int = 25, offset: int = 0,
    columns: Sequence[Any] | None = None,
) -> list[Row]:
    """One page of public posts (for drill-down lists and the digest): by engagement or newest."""
    eng = engagement(P).label("engagement")
    cols = list(columns) if columns is not None else [
        P.id, P.platform, P.url, P.title, P.text, P.created_at, P.like_count, P.repost_count,
        P.reply_count, P.quote_count, P.score, P.author_external_id]
    q = select(*cols, eng).select_from(Post.__table__).where(public_where(f, P))
    q = q.order_by(eng.desc(), P.id) if order == "engagement" else q.order_by(P.created_at.desc(), P.id.desc())
    with db.engine.connect() as conn:
        return conn.execute(q.limit(limit).offset(offset)).all()
