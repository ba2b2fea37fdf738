"""`radpulse.open()`: the dataset API for researchers.

    >>> import radpulse
    >>> ds = radpulse.open("~/.local/share/radpulse/demo.db")      # a path, a URL, or None (config)
    >>> posts = ds.posts(since="2026-01-01", platforms=["x"], themes=["ai"])
    >>> for chunk in ds.iter_posts(chunksize=100_000): ...
    >>> ds.to_parquet("posts.parquet")
    >>> ds.daily(by=["platform"]); ds.edges(); ds.graph()          # per day; the conversation network

Every method returns a pandas DataFrame with documented dtypes: UTC datetimes
(`datetime64[us, UTC]`), categoricals for platforms and labels, nullable integers (`Int64`) for
counts. Posts come through the read layer (`radpulse.db.queries`): deleted and held posts are
left out, and rows are de-identified unless `identified=True` (see the README's *Data
protection*). Held posts are only available identified, with `include_held=True`.

Posts are read a chunk at a time as columns (the next chunk read in a thread while this one is
converted), de-identified a column at a time (`radpulse.exports.deidentify.scrub_texts`), and
`posts()` sorts them by (created_at, id) once at the end; `radpulse.api` is a thin layer over this.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, select

from radpulse.db.engine import Database, open_database
from radpulse.db.models import Annotation, Author, Mention, Post
from radpulse.db.queries import PostFilters, public_where
from radpulse.db.queries.privacy import ANNOTATOR_NAME
from radpulse.errors import InputError
from radpulse.db.reading import gc_paused
from radpulse.exports.parallel import PARALLEL_MIN_ROWS, default_workers, parallel_post_frames, warm_up
from radpulse.exports.posts import count_posts, empty_frame, iter_post_frames, pseudonymiser, time_order
from radpulse.timewindow import parse_when

#: a `posts()` call over this many rows asks for `iter_posts` or `to_parquet` instead
DEFAULT_MAX_ROWS = 2_000_000
CATEGORIES = ("platform", "author_type", "language", "subspecialty", "sentiment", "kind")


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    for name in CATEGORIES:
        if name in frame.columns:
            frame[name] = frame[name].astype("category")
    return frame


def post_filters(
    *, since: Any = None, until: Any = None, platforms: Sequence[str] = (), sources: Sequence[str] = (),
    subspecialties: Sequence[str] = (), themes: Sequence[str] = (), sentiments: Sequence[str] = (),
    languages: Sequence[str] = (), author_types: Sequence[str] = (), include_held: bool = False,
    include_deleted: bool = False, identified: bool = False,
) -> PostFilters:
    """The read layer's filters for these arguments (dates: `7d`, `2026-01-01`, ISO, datetime).
    Held posts only with `identified`; deleted posts (text purged) only with `include_deleted`."""
    if include_held and not identified:
        raise InputError("Held posts are only available identified.",
                         hint="Pass identified=True as well (for reviewers and approved research only).")
    return PostFilters(start=parse_when(since, name="since"), end=parse_when(until, name="until"),
                       platforms=platforms, sources=sources, subspecialties=subspecialties, themes=themes,
                       sentiments=sentiments, languages=languages, author_types=author_types,
                       include_held=include_held, include_deleted=include_deleted)


class Dataset:
    """A radpulse database seen as DataFrames (see the module docstring)."""

    def __init__(self, db: Database, *, key: str | None = None, max_rows: int = DEFAULT_MAX_ROWS,
                 workers: int | None = None) -> None:
        self.db, self._key, self.max_rows = db, key, max_rows
        self.workers = default_workers() if workers is None else max(1, int(workers))

    def __repr__(self) -> str:
        return f"<radpulse.Dataset {self.db.engine.url.render_as_string(hide_password=True)}>"

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- posts -------------------------------------------------------------------------------

    def filters(self, *, identified: bool = False, **filters: Any) -> PostFilters:
        """The read layer's filters for these arguments (see `post_filters`)."""
        return post_filters(identified=identified, **filters)

    def iter_posts(self, *, chunksize: int = 50_000, identified: bool = False, **filters: Any) -> Iterator[pd.DataFrame]:
        """Posts in chunks of at most `chunksize` rows (constant memory on any size), in time order
        (on SQLite reading most of the table: in the order they were stored)."""
        f = self.filters(identified=identified, **filters)
        for frame in iter_post_frames(self.db, f, deidentify=not identified, key=self._key, chunksize=chunksize):
            yield _typed(frame)

    def count_posts(self, **filters: Any) -> int:
        return count_posts(self.db, self.filters(**filters))

    def posts(self, *, identified: bool = False, **filters: Any) -> pd.DataFrame:
        """Posts as one DataFrame ordered by time; refuses more than `max_rows` (use `iter_posts`
        or `to_parquet`)."""
        f = self.filters(identified=identified, **filters)
        # posts in the dates and platforms, held or deleted or not: an upper bound read from the
        # index alone; the exact count (the held rule per post) only when that bound is too high
        bound = PostFilters(start=f.start, end=f.end, platforms=f.platforms, include_held=True, include_deleted=True)
        bound_rows = count_posts(self.db, bound)
        if bound_rows > self.max_rows and (n := count_posts(self.db, f)) > self.max_rows:
            raise InputError(
                f"{n:,} posts match: more than this dataset's max_rows ({self.max_rows:,}) in one DataFrame.",
                hint="Narrow the filters, stream with iter_posts(chunksize=...), write with to_parquet(path), "
                     "or open with radpulse.open(..., max_rows=N).")
        with gc_paused():
            if self.workers > 1 and not f.extra and bound_rows >= PARALLEL_MIN_ROWS:  # on several cores
                frames = list(parallel_post_frames(self.db, f, deidentify=not identified, key=self._key,
                                                   rows=bound_rows, workers=self.workers))
            else:
                frames = list(iter_post_frames(self.db, f, deidentify=not identified, key=self._key,
                                               chunksize=50_000, order_key=True))
            frame = pd.concat(frames, ignore_index=True) if frames else empty_frame(identified).assign(_order=[])
            del frames
            # chunks may come in storage order (see stream_posts): one sort by (created_at, id)
            order = time_order(frame["created_at"].array.asi8, frame["_order"].to_numpy())
            frame = frame.drop(columns="_order")
            if order is not None:
                frame = frame.take(order).reset_index(drop=True)
            return _typed(frame)

    def to_parquet(self, path: str | Path, *, identified: bool = False, **filters: Any) -> int:
        """Write the posts to a Parquet file in chunks; returns the rows written."""
        from radpulse.exports.writers import write_frames

        f = self.filters(identified=identified, **filters)
        return write_frames(iter_post_frames(self.db, f, deidentify=not identified, key=self._key), "parquet", path)

    # -- the rest --------------------------------------------------------------------------

    def authors(self, *, identified: bool = False) -> pd.DataFrame:
        """Accounts that wrote at least one public post: pseudonym (or ids), type, followers, posts."""
        p, a = Post.__table__.c, Author.__table__.c
        q = (select(a.platform, a.external_id, a.handle, a.author_type, a.followers, a.following, a.verified,
                    func.count(p.id).label("posts"), func.min(p.created_at).label("first_post"),
                    func.max(p.created_at).label("last_post"))
             .select_from(Author.__table__.join(Post.__table__, and_(p.platform == a.platform,
                                                                     p.author_external_id == a.external_id)))
             .where(public_where(PostFilters(), p))
             .group_by(a.platform, a.external_id, a.handle, a.author_type, a.followers, a.following, a.verified)
             .order_by(a.platform, a.external_id))
        with self.db.engine.connect() as conn:
            frame = pd.DataFrame(conn.execute(q).all(), columns=list(q.selected_columns.keys()))
        if not identified:
            pseudo = pseudonymiser(self.db, self._key)
            frame.insert(0, "author", [pseudo("a", pl, e) for pl, e in zip(frame["platform"], frame["external_id"])])
            frame = frame.drop(columns=["external_id", "handle"])
        for name in ("followers", "following", "posts"):
            frame[name] = frame[name].astype("Int64")
        frame["verified"] = frame["verified"].astype("boolean")
        for name in ("first_post", "last_post"):
            frame[name] = pd.to_datetime(frame[name], utc=True)
        return _typed(frame)

    def iter_articles(self, *, since: Any = None, until: Any = None, chunksize: int = 50_000) -> Iterator[pd.DataFrame]:
        """Articles (first seen in [since, until)) in chunks, as stored (see `articles`)."""
        from radpulse.dataset_frames import iter_article_frames

        return iter_article_frames(self.db, since=parse_when(since, name="since"), until=parse_when(until, name="until"),
                                   chunksize=chunksize)

    def articles(self, *, since: Any = None, until: Any = None) -> pd.DataFrame:
        """Papers with their identifiers and metadata (first seen in [since, until))."""
        from radpulse.dataset_frames import ARTICLE_COLUMNS

        frames = list(self.iter_articles(since=since, until=until))
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ARTICLE_COLUMNS)
        frame["published_date"] = pd.to_datetime(frame["published_date"], errors="coerce")
        frame["id"] = frame["id"].astype("Int64")
        return frame

    def mentions(self, *, identified: bool = False, **filters: Any) -> pd.DataFrame:
        """Which public post cites which article: post (pseudonym or id), article_id, kind, created_at."""
        p, m = Post.__table__.c, Mention.__table__.c
        f = self.filters(identified=identified, **filters)
        q = (select(p.platform, p.external_id, m.article_id, m.kind, p.created_at)
             .select_from(Mention.__table__.join(Post.__table__, p.id == m.post_id))
             .where(public_where(f, p)).order_by(p.created_at, m.id))
        with self.db.engine.connect() as conn:
            frame = pd.DataFrame(conn.execute(q).all(), columns=["platform", "external_id", "article_id", "kind",
                                                                 "created_at"])
        if not identified:
            pseudo = pseudonymiser(self.db, self._key)
            frame.insert(0, "post", [pseudo("p", pl, e) for pl, e in zip(frame["platform"], frame["external_id"])])
            frame = frame.drop(columns=["external_id"])
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
        frame["article_id"] = frame["article_id"].astype("Int64")
        return _typed(frame)

    def annotations(self, *, identified: bool = False, **filters: Any) -> pd.DataFrame:
        """The pipeline's labels per public post: sentiment, score, subspecialty, themes, flags, model."""
        p, a = Post.__table__.c, Annotation.__table__.c
        f = self.filters(identified=identified, **filters)
        q = (select(p.platform, p.external_id, a.model_version, a.sentiment, a.sentiment_score, a.subspecialty,
                    a.themes, a.flags, a.language)
             .select_from(Annotation.__table__.join(Post.__table__, p.id == a.post_id))
             .where(a.model_name == ANNOTATOR_NAME, public_where(f, p)).order_by(p.created_at, p.id))
        with self.db.engine.connect() as conn:
            frame = pd.DataFrame(conn.execute(q).all(), columns=list(q.selected_columns.keys()))
        if not identified:
            pseudo = pseudonymiser(self.db, self._key)
            frame.insert(0, "post", [pseudo("p", pl, e) for pl, e in zip(frame["platform"], frame["external_id"])])
            frame = frame.drop(columns=["external_id"])
        frame["themes"] = [list(t or []) for t in frame["themes"]]
        frame["flags"] = [list(t or []) for t in frame["flags"]]
        frame["sentiment_score"] = frame["sentiment_score"].astype("Float64")
        return _typed(frame)

    # -- aggregates and the network ------------------------------------------------------------

    def daily(self, *, by: Sequence[str] = ("platform",), **filters: Any) -> pd.DataFrame:
        """Public posts and engagement per UTC day and per value of each of `by` (platform,
        subspecialty, sentiment, author_type, language): day, *by, posts, engagement, likes,
        reposts, replies, quotes, score. Read from the rollups when the database has them."""
        from radpulse.dataset_frames import daily_frame

        return daily_frame(self.db, self.filters(**filters), by)

    def edges(self, *, identified: bool = False, **filters: Any) -> pd.DataFrame:
        """The reply / quote / repost / mention network of the public posts selected: one row per
        (platform, source, target, kind) with its weight. Accounts are pseudonyms (`a_...`, the same
        as `authors()` and `posts()`) unless `identified=True` (then ``platform:external_id``)."""
        from radpulse.dataset_frames import edge_frame
        from radpulse.db.queries import network

        f = self.filters(identified=identified, **filters)
        return edge_frame(network.edges(self.db, f), None if identified else pseudonymiser(self.db, self._key))

    def graph(self, *, identified: bool = False, **filters: Any) -> Any:
        """`edges()` as a `networkx.DiGraph`: edge `weight` sums the kinds (each kind's count is kept
        as an edge attribute), nodes carry their `platform`."""
        from radpulse.dataset_frames import graph_of

        return graph_of(self.edges(identified=identified, **filters))


def open(target: str | Path | Database | None = None, *, config: str | None = None,  # noqa: A001
         max_rows: int = DEFAULT_MAX_ROWS, workers: int | None = None) -> Dataset:
    """A `Dataset` for a database URL, an SQLite file path, an open `Database`, or the configured one.

    `workers`: processes that read a large `posts()` (default: the usable CPUs, at most 4; 1 reads
    in this process only)."""
    from radpulse.config import load_settings

    settings = load_settings(config)
    key = settings.secret("RADPULSE_EXPORT_KEY")
    if workers is None or workers > 1:  # a researcher's session: the fork server ready for large reads
        warm_up()
    if isinstance(target, Database):
        return Dataset(target, key=key, max_rows=max_rows, workers=workers)
    if target is None:
        url = settings.database_url
    elif "://" in str(target):
        url = str(target)
    else:
        path = Path(target).expanduser()
        if not path.exists():
            raise InputError(f"No database file at {path}.", hint="Pass a database URL or an existing SQLite file.")
        url = f"sqlite:///{path.resolve()}"
    return Dataset(open_database(url, create=False), key=key, max_rows=max_rows, workers=workers)
