"""The pandas API for researchers: posts and articles as DataFrames, streamed in chunks.

    >>> from radpulse.api import connect, posts_frame
    >>> db = connect()                       # the configured database
    >>> df = posts_frame(db, since="2026-01-01", platforms=["x", "bluesky"])
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

import pandas as pd
from sqlalchemy import select

from radpulse.db.engine import Database, open_database
from radpulse.db.models import Annotation, Article
from radpulse.db.queries.filters import PostFilters
from radpulse.errors import InputError
from radpulse.exports.posts import DEIDENTIFIED_COLUMNS, IDENTIFIED_COLUMNS, iter_post_frames
from radpulse.safeurl import safe_http_url
from radpulse.timewindow import parse_when

POST_EXPORT_COLUMNS = DEIDENTIFIED_COLUMNS
ARTICLE_EXPORT_COLUMNS = [
    "id", "key", "doi", "pmid", "pmcid", "url", "title", "journal", "authors", "published_date",
    "mesh_terms", "sources", "crossref_status", "synthetic",
]


def connect(url: str | None = None, config: str | None = None) -> Database:
    """Open the configured database (or `url`)."""
    from radpulse.config import load_settings

    return open_database(url or load_settings(config).database_url)


def post_filters(
    *, since: str | dt.datetime | None = None, until: str | dt.datetime | None = None,
    platforms: Sequence[str] = (), sources: Sequence[str] = (), include_deleted: bool = False,
    include_held: bool = False, **facets: Sequence[str],
) -> PostFilters:
    """The read layer's filters from the API's keyword arguments (dates as `parse_when` reads them)."""
    return PostFilters(start=parse_when(since, name="since"), end=parse_when(until, name="until"), platforms=tuple(platforms),
                       sources=tuple(sources), include_deleted=include_deleted, include_held=include_held,
                       **{k: tuple(v) for k, v in facets.items()})


def iter_posts(
    db: Database,
    *,
    since: str | dt.datetime | None = None,
    until: str | dt.datetime | None = None,
    platforms: Sequence[str] = (),
    sources: Sequence[str] = (),
    deidentify: bool = True,
    include_deleted: bool = False,
    include_held: bool = False,
    chunksize: int = 50_000,
    key: str | None = None,
) -> Iterator[pd.DataFrame]:
    """Public posts as DataFrames of at most `chunksize` rows, in constant memory.

    De-identified by default (see `radpulse.exports.deidentify`): keyed pseudonyms instead of
    ids, no handles, @mentions or links to posts and profiles, no held posts. Held posts are
    only available identified (`deidentify=False, include_held=True`), for reviewers.
    """
    if include_held and deidentify:
        raise InputError("Held posts are only exported identified.",
                         hint="Pass deidentify=False (needs ethics approval) or leave include_held off.")
    f = post_filters(since=since, until=until, platforms=platforms, sources=sources,
                     include_deleted=include_deleted, include_held=include_held)
    yield from iter_post_frames(db, f, deidentify=deidentify, key=key, chunksize=chunksize)


def posts_frame(db: Database, **kwargs) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """All matching posts in one DataFrame (see `iter_posts` for the options)."""
    columns = POST_EXPORT_COLUMNS if kwargs.get("deidentify", True) else IDENTIFIED_COLUMNS
    frames = list(iter_posts(db, **kwargs))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def iter_articles(
    db: Database, *, since: str | dt.datetime | None = None, until: str | dt.datetime | None = None,
    chunksize: int = 50_000,
) -> Iterator[pd.DataFrame]:
    """Articles (optionally first seen in [since, until)) as DataFrames."""
    q = select(*[getattr(Article, c) for c in ARTICLE_EXPORT_COLUMNS]).order_by(Article.id)
    if (s := parse_when(since, name="since")) is not None:
        q = q.where(Article.first_seen_at >= s)
    if (u := parse_when(until, name="until")) is not None:
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


def public_posts(db: Database, **kwargs) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The posts every public output may show (no deleted, no held posts), de-identified by default.

    The same rows as the dashboard, the digest and the exports: a thin name for `posts_frame`.
    """
    if kwargs.get("include_held"):
        raise InputError("public_posts never includes held posts.", hint="Use posts_frame(..., include_held=True).")
    return posts_frame(db, **kwargs)
