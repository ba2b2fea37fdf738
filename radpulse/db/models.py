"""The one data model of radpulse (SQLAlchemy 2.x typed ORM).

Every table is created by Alembic migrations (radpulse/db/migrations), never by create_all.
Times are stored timezone-aware UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    false,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, foreign, mapped_column, relationship
from sqlalchemy.sql.elements import Grouping
from sqlalchemy.types import TypeDecorator

#: JSON everywhere, JSONB on PostgreSQL
JSONType = JSON().with_variant(JSONB(), "postgresql")
#: raw payloads: JSON text kept as the service sent it, on PostgreSQL too (`json`, not `jsonb`,
#: which would reorder keys and re-space the payload, and parses it several times slower)
RawJSON = JSON()
#: integer primary keys that are 64-bit on PostgreSQL and ROWID aliases on SQLite
BigId = BigInteger().with_variant(Integer(), "sqlite")



class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: radpulse stores timezone-aware UTC times")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


class AsStored(TypeDecorator[object]):
    """A column read back exactly as the driver returns it (SQLite's UTC time text, its 0/1 for
    booleans), for readers that convert whole columns at once or pass values on (`db copy`)."""

    impl = String
    cache_ok = True


AS_STORED = AsStored()


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        dict[str, Any]: JSONType,
        list[str]: JSONType,
        list[Any]: JSONType,
        dt.datetime: UTCDateTime(),
    }


class Source(Base):
    """A tracked hashtag, query, subreddit, feed, PubMed query or Mastodon instance + tag."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    platform: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime]

    cursor: Mapped[SourceCursor | None] = relationship(back_populates="source")


class SourceCursor(Base):
    """Where collection of a source resumes; written in the same transaction as its batch."""

    __tablename__ = "source_cursors"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    cursor: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime]

    source: Mapped[Source] = relationship(back_populates="cursor")


class Author(Base):
    """An account on a platform, unique by (platform, external_id)."""

    __tablename__ = "authors"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(200))
    handle: Mapped[str | None] = mapped_column(String(300))
    display_name: Mapped[str | None] = mapped_column(Text)
    bio: Mapped[str | None] = mapped_column(Text)
    followers: Mapped[int | None] = mapped_column(BigInteger)
    following: Mapped[int | None] = mapped_column(BigInteger)
    verified: Mapped[bool | None] = mapped_column(Boolean)
    url: Mapped[str | None] = mapped_column(Text)
    author_type: Mapped[str | None] = mapped_column(String(32))
    author_type_model: Mapped[str | None] = mapped_column(String(100))
    raw: Mapped[dict[str, Any] | None] = mapped_column(RawJSON)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class Post(Base):
    """A post, unique by (platform, external_id)."""

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        Index("ix_posts_created_at", "created_at"),
        Index("ix_posts_platform_created_at", "platform", "created_at"),
        # an account's posts of a window (the account page, the drill-down by account) are one range
        Index("ix_posts_author", "platform", "author_external_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(300))
    author_external_id: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    url: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    community: Mapped[str | None] = mapped_column(String(200))
    reply_count: Mapped[int | None] = mapped_column(BigInteger)
    like_count: Mapped[int | None] = mapped_column(BigInteger)
    repost_count: Mapped[int | None] = mapped_column(BigInteger)
    quote_count: Mapped[int | None] = mapped_column(BigInteger)
    view_count: Mapped[int | None] = mapped_column(BigInteger)
    score: Mapped[int | None] = mapped_column(BigInteger)
    metrics_read_at: Mapped[dt.datetime | None]
    has_media: Mapped[bool] = mapped_column(Boolean, default=False)
    in_reply_to_id: Mapped[str | None] = mapped_column(String(300))
    quoted_id: Mapped[str | None] = mapped_column(String(300))
    reposted_id: Mapped[str | None] = mapped_column(String(300))
    conversation_id: Mapped[str | None] = mapped_column(String(300))
    links: Mapped[list[str]] = mapped_column(default=list)
    hashtags: Mapped[list[str]] = mapped_column(default=list)
    mentions: Mapped[list[str]] = mapped_column(default=list)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[dt.datetime | None]
    raw: Mapped[dict[str, Any] | None] = mapped_column(RawJSON)
    provenance: Mapped[dict[str, Any] | None]
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    #: first time radpulse stored the post, and the last time any field was written
    first_seen_at: Mapped[dt.datetime]
    collected_at: Mapped[dt.datetime]
    #: the last time text or title changed (analysis re-annotates posts changed since)
    text_changed_at: Mapped[dt.datetime]

    author: Mapped[Author | None] = relationship(
        primaryjoin=lambda: and_(
            foreign(Post.platform) == Author.platform,
            foreign(Post.author_external_id) == Author.external_id,
        ),
        viewonly=True,
        lazy="select",
    )
    annotations: Mapped[list[Annotation]] = relationship(back_populates="post", viewonly=True)


#: which stored counters make up engagement, per platform (default: the microblog counters); the
#: read layer's `engagement` (radpulse/db/queries/metrics.py) documents the rule
ENGAGEMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "reddit": ("score", "reply_count"),
}
DEFAULT_ENGAGEMENT_COLUMNS: tuple[str, ...] = ("like_count", "repost_count", "reply_count", "quote_count")


def engagement_sql(t: Any) -> Any:
    """SQL: the engagement of a post row of `t` (columns), with literal constants (no parameters:
    an expression index only matches a query that spells the same constants)."""
    zero = literal_column("0")

    def total(names: tuple[str, ...]) -> Any:
        expr = None
        for name in names:
            term = func.coalesce(getattr(t, name), zero)
            expr = term if expr is None else expr + term
        return expr

    whens = [(t.platform == literal_column(f"'{platform}'"), total(cols)) for platform, cols in ENGAGEMENT_COLUMNS.items()]
    return case(*whens, else_=total(DEFAULT_ENGAGEMENT_COLUMNS))


#: drill-down lists by engagement read this index in order (most engaged first, ties by id)
Index("ix_posts_engagement", Grouping(engagement_sql(Post.__table__.c)).desc(), Post.__table__.c.id)


class Interaction(Base):
    """One interaction a post records between two accounts: the edge table of the network.

    Written by the store as posts are upserted (radpulse/db/edges.py), one row per reply,
    quote, repost and mention. `source` and `target` are author keys (``platform:external_id``);
    a mention of an account radpulse has no profile of is ``platform:@handle``. A reply, quote or
    repost whose referenced post is not stored yet keeps its `target` NULL (the post's external id
    in `target_post`) until that post arrives. Held and deleted posts' rows stay here and are
    filtered out at read time (radpulse/db/queries/network.py).
    """

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_source", "source"),
        Index("ix_interactions_target", "target"),
        # edges waiting for their referenced post; (target_post, target) so that SQLite's planner
        # probes it by post rather than scanning every waiting edge through ix_interactions_target
        Index("ix_interactions_pending", "target_post", "target", sqlite_where=text("target IS NULL"),
              postgresql_where=text("target IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(240))
    target: Mapped[str | None] = mapped_column(String(340))
    target_post: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(8))  # reply | quote | repost | mention
    created_at: Mapped[dt.datetime]


#: mentions name accounts by handle: the edge writer looks them up case-insensitively
Index("ix_authors_platform_handle", Author.platform, func.lower(Author.handle))


class PostSource(Base):
    """Which tracked sources matched a post (one post can match several)."""

    __tablename__ = "post_sources"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    first_seen_at: Mapped[dt.datetime]


class Quarantine(Base):
    """An item a collector could not normalise, kept with its raw payload and the error."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("collection_runs.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(300))
    error: Mapped[str] = mapped_column(Text)
    raw: Mapped[Any] = mapped_column(RawJSON)
    created_at: Mapped[dt.datetime]


class Article(Base):
    """A scholarly article, unique by key: normalised DOI, else PMID, else canonical URL."""

    __tablename__ = "articles"
    #: citations by link look articles up by URL; a hash index on PostgreSQL has no key-size
    #: limit for long URLs, and equality is all the lookup needs
    __table_args__ = (Index("ix_articles_url", "url", postgresql_using="hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(600), unique=True)
    doi: Mapped[str | None] = mapped_column(String(300), index=True)
    pmid: Mapped[str | None] = mapped_column(String(20), index=True)
    pmcid: Mapped[str | None] = mapped_column(String(20), index=True)
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    journal: Mapped[str | None] = mapped_column(Text)
    issn: Mapped[str | None] = mapped_column(String(20))
    authors: Mapped[list[str]] = mapped_column(default=list)
    abstract: Mapped[str | None] = mapped_column(Text)
    published_date: Mapped[dt.date | None] = mapped_column(Date)
    entrez_date: Mapped[dt.date | None] = mapped_column(Date)
    mesh_terms: Mapped[list[str]] = mapped_column(default=list)
    sources: Mapped[list[str]] = mapped_column(default=list)
    crossref_status: Mapped[str | None] = mapped_column(String(20))
    raw: Mapped[dict[str, Any] | None] = mapped_column(RawJSON)
    provenance: Mapped[dict[str, Any] | None]
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class Mention(Base):
    """A post citing an article (by DOI, PMID, PMC id or a link)."""

    __tablename__ = "mentions"
    __table_args__ = (UniqueConstraint("post_id", "article_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # doi | pmid | pmcid | url
    matched: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]


class Annotation(Base):
    """What one model (name + version) said about one post."""

    __tablename__ = "annotations"
    __table_args__ = (
        UniqueConstraint("post_id", "model_name"),
        # flagged annotations only: the held rule's probe (radpulse/db/queries/privacy.py)
        Index("ix_annotations_flagged", "post_id", "model_name", sqlite_where=text("flags <> '[]'"),
              postgresql_where=text("flags <> '[]'::jsonb")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    model_name: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[str] = mapped_column(String(50))
    sentiment: Mapped[str | None] = mapped_column(String(16))
    sentiment_score: Mapped[float | None] = mapped_column(Float)
    subspecialty: Mapped[str | None] = mapped_column(String(32))
    subspecialties: Mapped[list[str]] = mapped_column(default=list)
    themes: Mapped[list[str]] = mapped_column(default=list)
    flags: Mapped[list[str]] = mapped_column(default=list)
    language: Mapped[str | None] = mapped_column(String(16))
    extra: Mapped[dict[str, Any] | None]
    annotated_at: Mapped[dt.datetime]

    post: Mapped[Post] = relationship(back_populates="annotations")


class ReviewDecision(Base):
    """A reviewer's decision on a flagged post, with the reason."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    flag: Mapped[str] = mapped_column(String(50))
    decision: Mapped[str] = mapped_column(String(16))  # confirmed | dismissed
    reason: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime]


class CollectionRun(Base):
    """One collection of one source: when, how it ended and what it counted."""

    __tablename__ = "collection_runs"
    __table_args__ = (Index("ix_collection_runs_source_started", "source_id", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    source_name: Mapped[str] = mapped_column(String(300))
    task: Mapped[str] = mapped_column(String(32), default="collect")  # collect | refresh | import
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(32), default="running")
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list[str]] = mapped_column(default=list)
    cursor_after: Mapped[dict[str, Any] | None]
    #: the process running it (host name and process id): a run whose process is gone is interrupted
    process_id: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(255))


class ApiUsage(Base):
    """Billable API units spent per platform and calendar month (X bills each post read)."""

    __tablename__ = "api_usage"
    __table_args__ = (UniqueConstraint("platform", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    units: Mapped[int] = mapped_column(BigInteger, default=0)


class Subscriber(Base):
    """Someone who receives the email digest."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    topics: Mapped[list[str]] = mapped_column(default=list)
    frequency: Mapped[str] = mapped_column(String(16), default="weekly")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime]
    #: opted in to spike alerts (radpulse/alerts)
    alerts: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SentDigest(Base):
    """A digest sent to one subscriber for one period (never sent twice)."""

    __tablename__ = "sent_digests"
    __table_args__ = (UniqueConstraint("subscriber_id", "period_start"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    sent_at: Mapped[dt.datetime]
    message_id: Mapped[str | None] = mapped_column(String(300))
    #: claimed | sending | sent | failed | unknown (radpulse/digest/claims.py)
    status: Mapped[str] = mapped_column(String(16), default="sent")
    error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SentAlert(Base):
    """A spike alert about one subject sent to one subscriber on one day (claimed like digests)."""

    __tablename__ = "sent_alerts"
    __table_args__ = (UniqueConstraint("subscriber_id", "subject", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(300))
    day: Mapped[dt.date] = mapped_column(Date)
    sent_at: Mapped[dt.datetime]
    message_id: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="claimed")
    error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class JobState(Base):
    """How a scheduled job (a source's collection, analyze, the digest...) last went."""

    __tablename__ = "job_states"

    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    last_started_at: Mapped[dt.datetime | None]
    last_finished_at: Mapped[dt.datetime | None]
    last_status: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_success_at: Mapped[dt.datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: when the operators were told it keeps failing (cleared by the recovery note)
    alerted_at: Mapped[dt.datetime | None]
    holder: Mapped[str | None] = mapped_column(String(100))


#: the dimensions of a rollup row; "" is "none" (no source, not annotated, no subspecialty, ...)
ROLLUP_DIMENSIONS = ("platform", "source", "subspecialty", "theme", "sentiment", "author_type", "language")


class _RollupDims:
    """The dimension columns shared by the post and author rollups (part of their primary key).

    `source` and `theme` are multi-valued: a post is in one row per source that matched it and
    per theme it carries. `first_source` / `first_theme` mark the rows of its first source and
    first theme (by name / by position): a query that does not select or group by sources
    keeps only `first_source` rows, so it counts each post once (the same for themes).
    """

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(300), primary_key=True)
    subspecialty: Mapped[str] = mapped_column(String(32), primary_key=True)
    theme: Mapped[str] = mapped_column(String(64), primary_key=True)
    sentiment: Mapped[str] = mapped_column(String(16), primary_key=True)
    author_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    first_source: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    first_theme: Mapped[bool] = mapped_column(Boolean, primary_key=True)


class RollupDaily(_RollupDims, Base):
    """Public posts and their engagement per day and dimensions (radpulse/db/rollups.py).

    Every count is additive across days and across the values of any single dimension except
    `source` and `theme`: a post with two themes is in both theme rows (shares by theme can
    exceed 100%); a total reads the `first_theme` rows only.
    """

    __tablename__ = "rollup_daily"

    posts: Mapped[int] = mapped_column(BigInteger)
    engagement: Mapped[int] = mapped_column(BigInteger)
    likes: Mapped[int] = mapped_column(BigInteger)
    reposts: Mapped[int] = mapped_column(BigInteger)
    replies: Mapped[int] = mapped_column(BigInteger)
    quotes: Mapped[int] = mapped_column(BigInteger)
    score: Mapped[int] = mapped_column(BigInteger)
    #: the engagement of the row's most engaged post: the day holding a cell's top post is found here
    max_engagement: Mapped[int] = mapped_column(BigInteger, server_default="0")


class RollupAuthorDaily(_RollupDims, Base):
    """Which accounts posted publicly on a day, per dimensions: distinct accounts over any window
    are a COUNT(DISTINCT platform, author_id) here (posts without a known author are left out)."""

    __tablename__ = "rollup_author_daily"
    #: one account's rows of a window (the account page) are one index range
    __table_args__ = (Index("ix_rollup_author_daily_account", "platform", "author_id", "day"),)

    author_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    posts: Mapped[int] = mapped_column(BigInteger)
    engagement: Mapped[int] = mapped_column(BigInteger)


class RollupHashtagDaily(Base):
    """Public posts and distinct accounts per hashtag (lower-cased), day and platform."""

    __tablename__ = "rollup_hashtag_daily"
    __table_args__ = (Index("ix_rollup_hashtag_daily_hashtag", "hashtag", "day"),)

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    hashtag: Mapped[str] = mapped_column(String(300), primary_key=True)
    posts: Mapped[int] = mapped_column(BigInteger)
    #: distinct accounts of that day (summed over days: account-days)
    authors: Mapped[int] = mapped_column(BigInteger)


class RollupHashtagAuthorDaily(Base):
    """Which accounts used a hashtag (lower-cased) publicly on a day and platform: distinct
    accounts of a hashtag over any window are a COUNT(DISTINCT platform, author_id) here.
    The key leads with the hashtag, so a few hashtags over a year read one index range each."""

    __tablename__ = "rollup_hashtag_author_daily"
    __table_args__ = (Index("ix_rollup_hashtag_author_daily_day", "day"),)

    hashtag: Mapped[str] = mapped_column(String(300), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    author_id: Mapped[str] = mapped_column(String(200), primary_key=True)


class RollupAccountKey(Base):
    """A number for each account (platform + id) the hashtag rollups have seen: the members of
    `rollup_hashtag_account_sets`. Given once, never reused."""

    __tablename__ = "rollup_account_keys"
    __table_args__ = (UniqueConstraint("platform", "author_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    author_id: Mapped[str] = mapped_column(String(200))


class RollupHashtagAccountSet(Base):
    """The accounts that used a hashtag publicly on a day and platform, as one set: their
    `rollup_account_keys` numbers, sorted, as little-endian 64-bit integers. Distinct accounts of
    a few hashtags over any window are the size of the union of a few hundred small sets (a
    year of the busiest tags: ~5,000 rows instead of ~250,000 account rows). Kept from
    `rollup_hashtag_author_daily` for the days a refresh touches."""

    __tablename__ = "rollup_hashtag_account_sets"
    __table_args__ = ({"sqlite_with_rowid": False},)

    hashtag: Mapped[str] = mapped_column(String(300), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    accounts: Mapped[bytes] = mapped_column(LargeBinary)


class RollupArticleDaily(Base):
    """Public posts citing an article, and their distinct accounts, per day and platform."""

    __tablename__ = "rollup_article_daily"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    mentions: Mapped[int] = mapped_column(BigInteger)
    #: distinct accounts of that day (summed over days: account-days)
    authors: Mapped[int] = mapped_column(BigInteger)


class RollupMentionDaily(Base):
    """Each public post's citations of articles, by the post's day, with what the attention score
    reads of the post (platform, author, time, kind, engagement): a window's mentions are one
    range of this table, not a walk over every citation ever stored with a held check per post."""

    __tablename__ = "rollup_mention_daily"
    __table_args__ = ({"sqlite_with_rowid": False},)

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    post_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    author_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]
    #: original, reply or repost (as `radpulse.literature.attention` tells them apart)
    kind: Mapped[str] = mapped_column(String(8))
    likes: Mapped[int | None] = mapped_column(BigInteger)
    reposts: Mapped[int | None] = mapped_column(BigInteger)
    replies: Mapped[int | None] = mapped_column(BigInteger)


#: the dimensions a slice row can be cut by ("" is the whole: every post once)
SLICE_DIMENSIONS = ("", "source", "subspecialty", "theme", "author_type", "language")


class _SliceCounts:
    """The sums a slice row holds (daily and monthly alike)."""

    posts: Mapped[int] = mapped_column(BigInteger)
    engagement: Mapped[int] = mapped_column(BigInteger)
    likes: Mapped[int] = mapped_column(BigInteger)
    reposts: Mapped[int] = mapped_column(BigInteger)
    replies: Mapped[int] = mapped_column(BigInteger)
    quotes: Mapped[int] = mapped_column(BigInteger)
    score: Mapped[int] = mapped_column(BigInteger)
    max_engagement: Mapped[int] = mapped_column(BigInteger)


class RollupSliceDaily(_SliceCounts, Base):
    """`rollup_daily` cut by one dimension at a time (with platform and sentiment): per day,
    platform, `dim` (one of SLICE_DIMENSIONS), its `value` and sentiment. Tens of rows a day
    instead of thousands, for the panels that group or filter by at most one dimension besides
    platform and sentiment. A post counts once per value of `dim` (per source or theme it
    carries for those two), and once in the `dim` "" rows."""

    __tablename__ = "rollup_slice_daily"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    dim: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(300), primary_key=True)
    sentiment: Mapped[str] = mapped_column(String(16), primary_key=True)


class RollupSliceMonthly(_SliceCounts, Base):
    """`rollup_slice_daily` summed per calendar month (`month`: its first day), keyed by the cut
    first: a year's monthly figures for one dimension read about a dozen rows per value instead
    of a row per day (the partial months at a window's ends are read from the daily rows).
    Recomputed from `rollup_slice_daily` for the months a refresh touches."""

    __tablename__ = "rollup_slice_monthly"
    __table_args__ = ({"sqlite_with_rowid": False},)

    dim: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(300), primary_key=True)
    sentiment: Mapped[str] = mapped_column(String(16), primary_key=True)


class RollupAccountsLag(Base):
    """Distinct accounts of any window ending on `day`, exactly: per day, platform and `lag`,
    how many accounts posted publicly in the `lag` + 1 days ending on `day` (from `day - lag` to
    `day`). Windows up to MAX_ACCOUNT_LAG + 1 days long read one row per platform."""

    __tablename__ = "rollup_accounts_lag"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    lag: Mapped[int] = mapped_column(Integer, primary_key=True)
    accounts: Mapped[int] = mapped_column(BigInteger)


#: the longest window (in days, minus one) `rollup_accounts_lag` answers
MAX_ACCOUNT_LAG = 400


class RollupAccountDaily(Base):
    """One row per account and day it posted publicly: posts, engagement and the engagement of its
    most engaged post (the People page's rankings and the account page read these narrow rows;
    posts without a known author are left out). Clustered by account, then day."""

    __tablename__ = "rollup_account_daily"
    __table_args__ = (
        # a window's rows, covering what a ranking or a distinct count over a window reads
        Index("ix_rollup_account_daily_day", "day", "author_type", "posts", "engagement"),
        {"sqlite_with_rowid": False},
    )

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    author_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    author_type: Mapped[str] = mapped_column(String(32))  # "" when unknown
    posts: Mapped[int] = mapped_column(BigInteger)
    engagement: Mapped[int] = mapped_column(BigInteger)
    max_engagement: Mapped[int] = mapped_column(BigInteger)


class RollupAccountTotal(Base):
    """Each account's public posts and engagement over all days (the sums of its
    `rollup_account_daily` rows): an upper bound of its engagement in any window, so a window's
    top accounts are found by reading the few accounts whose total can still reach the ranking."""

    __tablename__ = "rollup_account_totals"
    __table_args__ = (Index("ix_rollup_account_totals_engagement", "engagement"),)

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    author_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    author_type: Mapped[str] = mapped_column(String(32))
    posts: Mapped[int] = mapped_column(BigInteger)
    engagement: Mapped[int] = mapped_column(BigInteger)


class RollupAuthorTypeDaily(Base):
    """Public posts and engagement per day, platform and author type ("" unknown, posts without a
    known author included)."""

    __tablename__ = "rollup_author_type_daily"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    author_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    posts: Mapped[int] = mapped_column(BigInteger)
    engagement: Mapped[int] = mapped_column(BigInteger)


class RollupAuthorTypeMonthly(Base):
    """Distinct accounts that posted publicly per calendar month (its first day), platform and
    author type: the accounts of whole months without counting their days' rows."""

    __tablename__ = "rollup_author_type_monthly"

    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    author_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    accounts: Mapped[int] = mapped_column(BigInteger)


class RollupEdgeDaily(Base):
    """The conversation network's public edges per day: interactions from `source` to `target`
    of each kind, counted over the day's public posts (held and deleted posts' edges, edges
    still waiting for their target and self-interactions left out). Clustered by day."""

    __tablename__ = "rollup_edge_daily"
    __table_args__ = (
        # one account's edges of a window, both ways (covering: the account page reads no row)
        Index("ix_rollup_edge_daily_source", "source", "day", "interactions"),
        Index("ix_rollup_edge_daily_target", "target", "day", "interactions"),
        {"sqlite_with_rowid": False},
    )

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(240), primary_key=True)
    target: Mapped[str] = mapped_column(String(340), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    interactions: Mapped[int] = mapped_column(BigInteger)


class RollupStaleDay(Base):
    """A day whose rollups wait for a refresh (marked in a writer's transaction, so never lost)."""

    __tablename__ = "rollup_stale_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)


class TrendTerm(Base):
    """Stored emerging-term counts (analysis/trends.py): per day D and platform, the distinct
    accounts and the posts of each term or hashtag in the 7 days ending D (public posts), the
    accounts summed over the four 7-day windows before (the baseline), and the hashtags whose
    accounts in the window include all the term's (the fold rule). Only terms with at least
    `MIN_AUTHORS` accounts over all platforms in the window are stored."""

    __tablename__ = "trend_terms"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # term | hashtag
    term: Mapped[str] = mapped_column(String(300), primary_key=True)
    authors: Mapped[int] = mapped_column(Integer)
    posts: Mapped[int] = mapped_column(Integer)
    base_authors: Mapped[int] = mapped_column(Integer)
    covered_by: Mapped[list[str]] = mapped_column(JSONType, default=list)


class TrendTopic(Base):
    """Topics discovered (NMF) in one ISO week's public posts, for all platforms ('') and per
    platform (analysis/trends.py): label, top terms, posts of the fitted sample whose strongest
    topic it is, and example post ids."""

    __tablename__ = "trend_topics"

    week: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    topic: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(300))
    terms: Mapped[list[str]] = mapped_column(JSONType, default=list)
    posts: Mapped[int] = mapped_column(Integer)
    sample_posts: Mapped[int] = mapped_column(Integer)
    week_posts: Mapped[int] = mapped_column(Integer)
    examples: Mapped[list[int]] = mapped_column(JSONType, default=list)


class TrendStaleDay(Base):
    """A day whose posts changed since the stored trends were computed (marked with the
    rollups' marks; refreshed by the analysis job)."""

    __tablename__ = "trend_stale_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)


class Meta(Base):
    """Key/value facts about the database (e.g. synthetic demo data, demo seed)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONType)
