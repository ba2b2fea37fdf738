"""The first pandas API, kept working as a thin layer over `radpulse.open()` (`radpulse.dataset`).

    >>> from radpulse.api import connect, posts_frame
    >>> db = connect()                       # the configured database
    >>> df = posts_frame(db, since="2026-01-01", platforms=["x", "bluesky"])

Every function here is the `Dataset` method of the same data (same rows, dtypes, de-identification
and privacy rules); new code should use `radpulse.open()`.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd

from radpulse.dataset import Dataset, post_filters
from radpulse.dataset_frames import ARTICLE_COLUMNS
from radpulse.db.engine import Database, open_database
from radpulse.db.queries.privacy import ANNOTATOR_NAME
from radpulse.errors import InputError
from radpulse.exports.posts import DEIDENTIFIED_COLUMNS
from radpulse.timewindow import parse_when

__all__ = ["ARTICLE_EXPORT_COLUMNS", "POST_EXPORT_COLUMNS", "annotations_frame", "articles_frame", "connect",
           "iter_articles", "iter_posts", "parse_when", "post_filters", "posts_frame", "public_posts"]

POST_EXPORT_COLUMNS = DEIDENTIFIED_COLUMNS
ARTICLE_EXPORT_COLUMNS = ARTICLE_COLUMNS


def connect(url: str | None = None, config: str | None = None) -> Database:
    """Open the configured database (or `url`)."""
    from radpulse.config import load_settings

    return open_database(url or load_settings(config).database_url)


def _dataset(db: Database, key: str | None = None) -> Dataset:
    return Dataset(db, key=key, max_rows=sys.maxsize)


def iter_posts(
    db: Database, *, since: str | dt.datetime | None = None, until: str | dt.datetime | None = None,
    platforms: Sequence[str] = (), sources: Sequence[str] = (), deidentify: bool = True,
    include_deleted: bool = False, include_held: bool = False, chunksize: int = 50_000, key: str | None = None,
) -> Iterator[pd.DataFrame]:
    """`Dataset.iter_posts`: public posts in chunks, de-identified unless `deidentify=False`; held
    posts only identified (`deidentify=False, include_held=True`), for reviewers."""
    return _dataset(db, key).iter_posts(
        identified=not deidentify, chunksize=chunksize, since=since, until=until, platforms=platforms,
        sources=sources, include_deleted=include_deleted, include_held=include_held)


def posts_frame(db: Database, *, deidentify: bool = True, key: str | None = None, **filters: Any) -> pd.DataFrame:
    """`Dataset.posts` without a row limit (see `iter_posts` for the options)."""
    filters.pop("chunksize", None)
    return _dataset(db, key).posts(identified=not deidentify, **filters)


def public_posts(db: Database, **kwargs: Any) -> pd.DataFrame:
    """The posts every public output may show (no deleted, no held posts), de-identified by default."""
    if kwargs.get("include_held"):
        raise InputError("public_posts never includes held posts.", hint="Use posts_frame(..., include_held=True).")
    return posts_frame(db, **kwargs)


def iter_articles(db: Database, *, since: str | dt.datetime | None = None, until: str | dt.datetime | None = None,
                  chunksize: int = 50_000) -> Iterator[pd.DataFrame]:
    """`Dataset.iter_articles`: articles (optionally first seen in [since, until)) in chunks."""
    return _dataset(db).iter_articles(since=since, until=until, chunksize=chunksize)


def articles_frame(db: Database, **kwargs: Any) -> pd.DataFrame:
    """`Dataset.articles`."""
    return _dataset(db).articles(**kwargs)


def annotations_frame(db: Database, model_name: str | None = None) -> pd.DataFrame:
    """`Dataset.annotations(identified=True)`: the pipeline's labels of the public posts."""
    if model_name not in (None, ANNOTATOR_NAME):
        raise InputError(f"Only the pipeline's labels ({ANNOTATOR_NAME}) are read here, not {model_name!r}.",
                         hint="Use radpulse.open(...).annotations().")
    return _dataset(db).annotations(identified=True)
