"""The pandas API for researchers: posts and articles as DataFrames, streamed in chunks.

    >>> from radpulse.api import connect, posts_frame
    >>> db = connect()                       # the configured database
    >>> df = posts_frame(db, since="2026-01-01", platforms=["x", "bluesky"])
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterator, Sequence

import pandas as pd
from sqlalchemy import Select, and_, exists, select

from radpulse.db.engine import Database, open_database
from radpulse.db.models import Annotation, Article, Author, Meta, Post, PostSource, Source
from radpulse.errors import InputError
from radpulse.safeurl import safe_http_url, safe_http_urls

POST_EXPORT_COLUMNS = [
    "id", "platform", "external_id", "author", "author_handle", "author_type", "created_at", "text",
    "title", "url", "language", "community", "reply_count", "like_count", "repost_count",
    "quote_count", "view_count", "score", "metrics_read_at", "has_media", "in_reply_to_id",
    "quoted_id", "reposted_id", "hashtags", "links", "is_deleted", "synthetic",
]
ARTICLE_EXPORT_COLUMNS = [
    "id", "key", "doi", "pmid", "pmcid", "url", "title", "journal", "authors", "published_date",
    "mesh_terms", "sources", "crossref_status", "synthetic",
]
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_.]+(?:@[A-Za-z0-9_.-]+)?")


def connect(url: str | None = None, config: str | None = None) -> Database:
    """Open the configured database (or `url`)."""
    from radpulse.config import load_settings

    return open_database(url or load_settings(config).database_url)


def parse_when(value: str | dt.date | dt.datetime | None) -> dt.datetime | None:
    """'2026-01-01', an ISO timestamp, '7d'/'12h'/'4w' (ago), a date or datetime → aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    m = re.fullmatch(r"\s*(\d+)\s*([hdw])\s*", value)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        delta = {"h": dt.timedelta(hours=n), "d": dt.timedelta(days=n), "w": dt.timedelta(weeks=n)}[unit]
        return dt.datetime.now(dt.timezone.utc) - delta
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(
            f"{value!r} is not a date.", hint="Use YYYY-MM-DD, an ISO timestamp, or a span such as 7d, 12h, 4w."
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _post_query(
    since: dt.datetime | None,
    until: dt.datetime | None,
    platforms: Sequence[str],
    sources: Sequence[str],
    include_deleted: bool,
) -> Select:
    q = (
        select(Post, Author.handle, Author.author_type)
        .outerjoin(Author, and_(Author.platform == Post.platform, Author.external_id == Post.author_external_id))
        .order_by(Post.created_at, Post.id)
    )
    if since:
        q = q.where(Post.created_at >= since)
    if until:
        q = q.where(Post.created_at < until)
    if platforms:
        q = q.where(Post.platform.in_(list(platforms)))
    if sources:
        q = q.where(
            exists().where(PostSource.post_id == Post.id, PostSource.source_id == Source.id, Source.name.in_(list(sources)))
        )
    if not include_deleted:
        q = q.where(Post.is_deleted.is_(False))
    return q


def _pseudonymiser(db: Database):  # type: ignore[no-untyped-def]
    """A keyed hash of author ids; the key is per database, so pseudonyms are stable within it."""
    with db.session() as s:
        row = s.get(Meta, "export_salt")
        if row is None:
            row = Meta(key="export_salt", value=secrets.token_hex(16))
            s.add(row)
        key = str(row.value).encode()

    def pseudonym(platform: str, external_id: str | None) -> str | None:
        if external_id is None:
            return None
        return "a_" + hmac.new(key, f"{platform}:{external_id}".encode(), hashlib.sha256).hexdigest()[:16]

    return pseudonym


def iter_posts(
    db: Database,
    *,
    since: str | dt.datetime | None = None,
    until: str | dt.datetime | None = None,
    platforms: Sequence[str] = (),
    sources: Sequence[str] = (),
    deidentify: bool = True,
    include_deleted: bool = False,
    chunksize: int = 50_000,
) -> Iterator[pd.DataFrame]:
    """Posts as DataFrames of at most `chunksize` rows (memory stays flat on any size).

    With `deidentify` (the default for research exports) authors become keyed pseudonyms,
    handles and @mentions are removed from the output, and raw payloads are never included.
    """
    q = _post_query(parse_when(since), parse_when(until), platforms, sources, include_deleted)
    pseudonym = _pseudonymiser(db) if deidentify else None
    with db.sessions() as session:
        result = session.execute(q.execution_options(yield_per=chunksize))
        for part in result.partitions():
            records = [_post_record(post, handle, atype, pseudonym) for post, handle, atype in part]
            session.expunge_all()
            yield pd.DataFrame.from_records(records, columns=POST_EXPORT_COLUMNS)


def _post_record(p: Post, handle: str | None, author_type: str | None, pseudonym) -> dict:  # type: ignore[no-untyped-def]
    text = p.text
    if pseudonym is not None:
        author, handle = pseudonym(p.platform, p.author_external_id), None
        text = _MENTION.sub("@user", text) if text else text
    else:
        author = p.author_external_id
    return {
        "id": p.id, "platform": p.platform, "external_id": p.external_id, "author": author,
        "author_handle": handle, "author_type": author_type, "created_at": p.created_at, "text": text,
        "title": p.title, "url": safe_http_url(p.url), "language": p.language, "community": p.community,
        "reply_count": p.reply_count, "like_count": p.like_count, "repost_count": p.repost_count,
        "quote_count": p.quote_count, "view_count": p.view_count, "score": p.score,
        "metrics_read_at": p.metrics_read_at, "has_media": p.has_media, "in_reply_to_id": p.in_reply_to_id,
        "quoted_id": p.quoted_id, "reposted_id": p.reposted_id, "hashtags": list(p.hashtags or []),
        "links": safe_http_urls(p.links), "is_deleted": p.is_deleted, "synthetic": p.synthetic,
    }


def posts_frame(db: Database, **kwargs) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """All matching posts in one DataFrame (see `iter_posts` for the options)."""
    frames = list(iter_posts(db, **kwargs))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=POST_EXPORT_COLUMNS)


def iter_articles(
    db: Database, *, since: str | dt.datetime | None = None, until: str | dt.datetime | None = None,
    chunksize: int = 50_000,
) -> Iterator[pd.DataFrame]:
    """Articles (optionally first seen in [since, until)) as DataFrames."""
    q = select(*[getattr(Article, c) for c in ARTICLE_EXPORT_COLUMNS]).order_by(Article.id)
    if (s := parse_when(since)) is not None:
        q = q.where(Article.first_seen_at >= s)
    if (u := parse_when(until)) is not None:
        q = q.where(Article.first_seen_at < u)
    with db.engine.connect().execution_options(yield_per=chunksize, stream_results=True) as conn:
        for part in conn.execute(q).partitions(chunksize):
            frame = pd.DataFrame.from_records([tuple(r) for r in part], columns=ARTICLE_EXPORT_COLUMNS)
            if "url" in frame:  # rows stored before only http(s) links were kept
                frame["url"] = frame["url"].map(safe_http_url)
            yield frame


def articles_frame(db: Database, **kwargs) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    frames = list(iter_articles(db, **kwargs))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ARTICLE_EXPORT_COLUMNS)


def annotations_frame(db: Database, model_name: str | None = None) -> pd.DataFrame:
    """Stored annotations (one row per post and model)."""
    q = select(Annotation.post_id, Annotation.model_name, Annotation.model_version, Annotation.sentiment,
               Annotation.sentiment_score, Annotation.subspecialty, Annotation.subspecialties,
               Annotation.themes, Annotation.flags, Annotation.language)
    if model_name:
        q = q.where(Annotation.model_name == model_name)
    with db.engine.connect() as conn:
        rows = conn.execute(q).all()
    return pd.DataFrame.from_records([tuple(r) for r in rows], columns=list(q.selected_columns.keys()))
