"""Posts for research exports and the pandas API, as DataFrame chunks in constant memory."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pandas as pd
from sqlalchemy import and_, func, select

from radpulse.db.engine import Database
from radpulse.db.models import Annotation, Author, Meta, Post
from radpulse.db.queries.filters import PostFilters, public_where
from radpulse.db.queries.metrics import engagement
from radpulse.db.queries.posts import stream_posts
from radpulse.db.queries.privacy import ANNOTATOR_NAME
from radpulse.exports.deidentify import Pseudonymiser, scrub_community, scrub_links, scrub_text
from radpulse.safeurl import safe_http_url, safe_http_urls

P, A, N = Post.__table__.c, Author.__table__.c, Annotation.__table__.c

#: columns of a de-identified export, in order (the data dictionary is in the README)
DEIDENTIFIED_COLUMNS = [
    "post", "platform", "author", "author_type", "created_at", "text", "title", "language", "community",
    "reply_count", "like_count", "repost_count", "quote_count", "view_count", "score", "engagement",
    "has_media", "in_reply_to", "quoted", "reposted", "hashtags", "links", "subspecialty", "themes",
    "sentiment", "is_deleted", "synthetic",
]
#: an identified export (`--identified`) keeps the platform's ids, URLs and handles
IDENTIFIED_COLUMNS = [
    "id", "external_id", "url", "platform", "author_external_id", "author_handle", "author_type", "created_at",
    "text", "title", "language", "community", "reply_count", "like_count", "repost_count", "quote_count",
    "view_count", "score", "engagement", "has_media", "in_reply_to_id", "quoted_id", "reposted_id", "hashtags",
    "links", "subspecialty", "themes", "sentiment", "is_deleted", "synthetic",
]
COUNTS = ["reply_count", "like_count", "repost_count", "quote_count", "view_count", "score", "engagement"]

_COLUMNS = [
    P.id, P.platform, P.external_id, P.url, P.author_external_id, A.handle.label("author_handle"),
    A.author_type, P.created_at, P.text, P.title, P.language, P.community, P.reply_count, P.like_count,
    P.repost_count, P.quote_count, P.view_count, P.score, engagement(P).label("engagement"), P.has_media,
    P.in_reply_to_id, P.quoted_id, P.reposted_id, P.hashtags, P.links, P.mentions, N.subspecialty, N.themes,
    N.sentiment, P.is_deleted, P.synthetic,
]
_FROM = (Post.__table__
         .outerjoin(Author.__table__, and_(A.platform == P.platform, A.external_id == P.author_external_id))
         .outerjoin(Annotation.__table__, and_(N.post_id == P.id, N.model_name == ANNOTATOR_NAME)))


def pseudonymiser(db: Database, key: str | None = None) -> Pseudonymiser:
    """Pseudonyms under `key` (RADPULSE_EXPORT_KEY), else under a random key kept in the database."""
    if key:
        return Pseudonymiser(key.encode())
    with db.session() as s:
        row = s.get(Meta, "export_salt")
        if row is None:
            row = Meta(key="export_salt", value=secrets.token_hex(16))
            s.add(row)
        return Pseudonymiser(str(row.value).encode())


def empty_frame(identified: bool = False) -> pd.DataFrame:
    """A frame with no posts and the export's columns and dtypes."""
    return _frame([], IDENTIFIED_COLUMNS if identified else DEIDENTIFIED_COLUMNS)


def _frame(rows: list, columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=columns)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    for name in COUNTS:
        frame[name] = frame[name].astype("Int64")
    return frame


def iter_post_frames(
    db: Database, f: PostFilters, *, deidentify: bool = True, key: str | None = None, chunksize: int = 5_000,
) -> Iterator[pd.DataFrame]:
    """DataFrames of at most `chunksize` posts; de-identified unless `deidentify` is False.

    A de-identified export never includes held posts, whatever `f` says.
    """
    if deidentify and f.include_held:
        f = PostFilters(**{**f.__dict__, "include_held": False})
    pseudo = pseudonymiser(db, key) if deidentify else None
    columns = DEIDENTIFIED_COLUMNS if deidentify else IDENTIFIED_COLUMNS
    for chunk in stream_posts(db, f, _COLUMNS, chunksize=chunksize, from_obj=_FROM):
        records = [_deidentified(r, pseudo) if pseudo is not None else _identified(r) for r in chunk]
        yield _frame(records, columns)


def _identified(r) -> tuple:  # type: ignore[no-untyped-def]
    return (r.id, r.external_id, safe_http_url(r.url), r.platform, r.author_external_id, r.author_handle, r.author_type,
            r.created_at, r.text, r.title, r.language, r.community, r.reply_count, r.like_count, r.repost_count,
            r.quote_count, r.view_count, r.score, r.engagement, r.has_media, r.in_reply_to_id, r.quoted_id,
            r.reposted_id, list(r.hashtags or []), safe_http_urls(r.links), r.subspecialty, list(r.themes or []),
            r.sentiment, r.is_deleted, r.synthetic)


def _deidentified(r, pseudo: Pseudonymiser) -> tuple:  # type: ignore[no-untyped-def]
    handles = [h for h in [r.author_handle, *(r.mentions or [])] if isinstance(h, str)]
    return (pseudo("p", r.platform, r.external_id), r.platform, pseudo("a", r.platform, r.author_external_id),
            r.author_type, r.created_at, scrub_text(r.text, handles), scrub_text(r.title, handles), r.language,
            scrub_community(r.community), r.reply_count, r.like_count, r.repost_count, r.quote_count,
            r.view_count, r.score, r.engagement, r.has_media, pseudo("p", r.platform, r.in_reply_to_id),
            pseudo("p", r.platform, r.quoted_id), pseudo("p", r.platform, r.reposted_id),
            list(r.hashtags or []), scrub_links(safe_http_urls(r.links)), r.subspecialty, list(r.themes or []), r.sentiment,
            r.is_deleted, r.synthetic)


def count_posts(db: Database, f: PostFilters) -> int:
    """How many posts `f` selects (for progress bars)."""
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Post.__table__).where(public_where(f, P))).scalar() or 0)
