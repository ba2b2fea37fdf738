"""Queries behind the dashboard: aggregated in the database, returned as small DataFrames."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Date, and_, cast, func, literal_column, select, text

from radpulse.db.queries import PostFilters, author_key, public_where
from radpulse.db.engine import Database
from radpulse.db.models import Annotation, Author, Post


@dataclass(frozen=True)
class Filters:
    """What the dashboard's controls select."""

    start: dt.datetime
    end: dt.datetime
    platforms: tuple[str, ...] = ()

    def where(self):  # type: ignore[no-untyped-def]
        """Public posts of the window (the read layer's rule: no deleted, no held posts)."""
        return public_where(PostFilters(start=self.start, end=self.end, platforms=self.platforms))


def _day(db: Database):  # type: ignore[no-untyped-def]
    if db.dialect == "sqlite":
        return func.substr(Post.created_at, 1, 10)
    return cast(func.date_trunc("day", func.timezone("UTC", Post.created_at)), Date)


def date_bounds(db: Database) -> tuple[dt.datetime, dt.datetime] | None:
    with db.engine.connect() as conn:
        lo, hi = conn.execute(select(func.min(Post.created_at), func.max(Post.created_at))).one()
    if lo is None:
        return None
    as_dt = lambda v: v if isinstance(v, dt.datetime) else dt.datetime.fromisoformat(str(v))  # noqa: E731
    lo, hi = as_dt(lo), as_dt(hi)
    return (lo.replace(tzinfo=lo.tzinfo or dt.timezone.utc), hi.replace(tzinfo=hi.tzinfo or dt.timezone.utc))


def platforms(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        return sorted(conn.execute(select(Post.platform).distinct()).scalars())


def daily_volume(db: Database, f: Filters) -> pd.DataFrame:
    """Posts and engagement per day and platform."""
    day = _day(db).label("day")
    q = (select(day, Post.platform, func.count().label("posts"),
                func.coalesce(func.sum(Post.like_count), 0).label("likes"),
                func.coalesce(func.sum(Post.repost_count), 0).label("reposts"),
                func.count(func.distinct(author_key(Post))).label("authors"))
         .where(f.where()).group_by(day, Post.platform).order_by(day))
    with db.engine.connect() as conn:
        df = pd.DataFrame(conn.execute(q).all(), columns=["day", "platform", "posts", "likes", "reposts", "authors"])
    df["day"] = pd.to_datetime(df["day"])
    return df


def top_hashtags(db: Database, f: Filters, limit: int = 20) -> pd.DataFrame:
    """The most used hashtags (case-insensitive) with posts and authors."""
    if db.dialect == "sqlite":
        tag = func.lower(literal_column("j.value"))
        source = select(tag.label("tag"), Post.author_external_id).select_from(
            Post.__table__.join(text("json_each(posts.hashtags) AS j"), text("1=1"))).where(f.where())
    else:
        elems = func.jsonb_array_elements_text(Post.hashtags).table_valued("value").alias("j")
        tag = func.lower(elems.c.value)
        source = select(tag.label("tag"), Post.author_external_id).select_from(Post).join(elems, text("true")).where(f.where())
    sub = source.subquery()
    q = (select(sub.c.tag, func.count().label("posts"), func.count(func.distinct(sub.c.author_external_id)).label("authors"))
         .group_by(sub.c.tag).order_by(func.count().desc()).limit(limit))
    with db.engine.connect() as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=["tag", "posts", "authors"])


def engagement_sample(db: Database, f: Filters, limit: int = 20000) -> pd.DataFrame:
    """Likes per post for the engagement distribution (a bounded sample, newest first)."""
    q = select(Post.platform, Post.like_count).where(f.where(), Post.like_count.is_not(None)).order_by(Post.created_at.desc()).limit(limit)
    with db.engine.connect() as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=["platform", "likes"])


def topic_mix(db: Database, f: Filters) -> pd.DataFrame:
    """Posts per subspecialty from the stored annotations (empty when nothing is annotated)."""
    q = (select(Annotation.subspecialty, func.count().label("posts"), func.avg(Annotation.sentiment_score).label("sentiment"))
         .join(Post, Post.id == Annotation.post_id).where(f.where(), Annotation.subspecialty.is_not(None))
         .group_by(Annotation.subspecialty).order_by(func.count().desc()))
    with db.engine.connect() as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=["subspecialty", "posts", "sentiment"])


def author_mix(db: Database, f: Filters) -> pd.DataFrame:
    """Posts by author type."""
    atype = func.coalesce(Author.author_type, literal_column("'unknown'")).label("author_type")
    q = (select(atype, func.count().label("posts"))
         .select_from(Post)
         .outerjoin(Author, and_(Author.platform == Post.platform, Author.external_id == Post.author_external_id))
         .where(f.where()).group_by(atype).order_by(func.count().desc()))
    with db.engine.connect() as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=["author_type", "posts"])


def top_articles(db: Database, f: Filters, limit: int = 10) -> pd.DataFrame:
    """The most-discussed papers of the window by attention score (mentions and accounts beside it),
    the same ranking as `articles top` and the digest; held and deleted posts never count."""
    from radpulse.literature.attention import article_attention

    top = article_attention(db, since=f.start, until=f.end, platforms=f.platforms, limit=limit)
    out = top.rename(columns={"unique_authors": "authors"})
    return out[["title", "journal", "doi", "score", "mentions", "authors"]].reset_index(drop=True)


def totals(db: Database, f: Filters) -> dict[str, int]:
    q = select(func.count(), func.count(func.distinct(author_key(Post))),
               func.coalesce(func.sum(Post.like_count), 0)).where(f.where())
    with db.engine.connect() as conn:
        posts, authors, likes = conn.execute(q).one()
    return {"posts": int(posts), "authors": int(authors), "likes": int(likes)}


def default_filters(db: Database, days: int = 365, chosen: Sequence[str] = ()) -> Filters:
    bounds = date_bounds(db)
    end = (bounds[1] if bounds else dt.datetime.now(dt.timezone.utc)) + dt.timedelta(seconds=1)
    return Filters(start=end - dt.timedelta(days=days), end=end, platforms=tuple(chosen))
