"""The dataset's aggregate frames: posts per day, and the conversation network (de-identified).

`daily_frame` reads the rollup tables (`radpulse.db.queries.rollups`) when they are current, and
the same numbers straight from public posts through the read layer (`daily_from_posts`, also the
tests' oracle for the rollups) while some day waits for its refresh. `edge_frame` and `graph_of` turn the network read layer
(`radpulse.db.queries.network`) into pseudonymised edge lists and networkx graphs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import networkx as nx
import pandas as pd
from sqlalchemy import Date, and_, cast, func, literal, select

from radpulse.db.engine import Database
from radpulse.db.models import Annotation, Article, Author, Post
from radpulse.db.queries import PostFilters, engagement, public_where
from radpulse.db.queries.privacy import ANNOTATOR_NAME
from radpulse.safeurl import safe_http_url

COUNTS = ("posts", "engagement", "likes", "reposts", "replies", "quotes", "score")
#: the columns of `articles()` and `radpulse export articles`
ARTICLE_COLUMNS = [
    "id", "key", "doi", "pmid", "pmcid", "url", "title", "journal", "authors", "published_date",
    "mesh_terms", "sources", "crossref_status", "synthetic",
]
#: the dimensions `daily(by=...)` can split a day by (single-valued per post)
DAILY_DIMENSIONS = ("platform", "subspecialty", "sentiment", "author_type", "language")

P, A, N = Post.__table__.c, Author.__table__.c, Annotation.__table__.c


def _day(db: Database) -> Any:
    if db.dialect == "sqlite":
        return func.date(P.created_at)  # stored as naive UTC text
    return cast(func.timezone("UTC", P.created_at), Date)


def _dimension(name: str) -> Any:
    column = {"platform": P.platform, "language": P.language, "author_type": A.author_type,
              "subspecialty": N.subspecialty, "sentiment": N.sentiment}[name]
    return func.coalesce(column, literal(""))


def daily_from_posts(db: Database, filters: PostFilters, by: Sequence[str] = ("platform",)) -> pd.DataFrame:
    """Public posts and their engagement per UTC day (and per value of each of `by`), from `posts`."""
    day = _day(db).label("day")
    keys = [day, *(_dimension(d).label(d) for d in by)]
    sums = [func.count().label("posts"), func.sum(engagement(P)),
            *(func.sum(func.coalesce(c, 0)) for c in (P.like_count, P.repost_count, P.reply_count, P.quote_count,
                                                          P.score))]
    joined = (Post.__table__
              .outerjoin(Author.__table__, and_(A.platform == P.platform, A.external_id == P.author_external_id))
              .outerjoin(Annotation.__table__, and_(N.post_id == P.id, N.model_name == ANNOTATOR_NAME)))
    query = select(*keys, *sums).select_from(joined).where(public_where(filters, P)).group_by(*keys).order_by(*keys)
    with db.engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).all(), columns=["day", *by, *COUNTS])
    return frame


def _rollups_current(db: Database) -> bool:
    """True when the rollup tables exist and no day waits for a refresh (else read the posts)."""
    try:
        from radpulse.db.models import RollupStaleDay
    except ImportError:
        return False
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(RollupStaleDay)).scalar_one() == 0


def daily_frame(db: Database, filters: PostFilters, by: Sequence[str] = ("platform",)) -> pd.DataFrame:
    """Posts per day: from the rollups when available, else from the posts (the same numbers)."""
    unknown = [d for d in by if d not in DAILY_DIMENSIONS]
    if unknown:
        raise ValueError(f"daily(by=...) takes {', '.join(DAILY_DIMENSIONS)}; not {', '.join(unknown)}.")
    if _rollups_current(db):
        from radpulse.db.queries.rollups import volume_by

        frame = volume_by(db, filters, period="day", dims=tuple(by)).rename(columns={"period": "day"})
        frame = frame[["day", *by, *COUNTS]]
    else:
        frame = daily_from_posts(db, filters, by)
    return typed_daily(frame, by)


def typed_daily(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Documented dtypes: `day` as midnight UTC, dimensions categorical ("" is missing), counts Int64."""
    frame = frame.copy()
    frame["day"] = pd.to_datetime(frame["day"].astype(str)).dt.tz_localize("UTC")
    for name in by:
        frame[name] = frame[name].replace("", pd.NA).astype("category")
    for name in COUNTS:
        frame[name] = frame[name].astype("Int64")
    return frame.sort_values(["day", *by], ignore_index=True)


def edge_frame(raw: pd.DataFrame, pseudo: Callable[[str, str, str | None], str | None] | None) -> pd.DataFrame:
    """The network read layer's edges with a `platform` column; account keys pseudonymised when
    `pseudo` is given (an unknown mentioned ``platform:@handle`` gets a pseudonym of its own)."""
    frame = raw.copy()
    frame.insert(0, "platform", [key.partition(":")[0] for key in frame["source"]])
    if pseudo is not None:
        cache: dict[str, str | None] = {}

        def key_of(account: str) -> str | None:
            if account not in cache:
                platform, _, ident = account.partition(":")
                cache[account] = pseudo("a", platform, ident)
            return cache[account]

        frame["source"] = [key_of(k) for k in frame["source"]]
        frame["target"] = [key_of(k) for k in frame["target"]]
    frame["platform"] = frame["platform"].astype("category")
    frame["kind"] = frame["kind"].astype("category")
    frame["weight"] = frame["weight"].astype("int64")
    return frame


def iter_article_frames(db: Database, *, since: dt.datetime | None = None, until: dt.datetime | None = None,
                        chunksize: int = 50_000) -> Iterator[pd.DataFrame]:
    """Articles (first seen in [since, until)) as DataFrames of at most `chunksize` rows; links
    stored before only http(s) was kept pass `safe_http_url` again."""
    q = select(*[getattr(Article, c) for c in ARTICLE_COLUMNS]).order_by(Article.id)
    if since is not None:
        q = q.where(Article.first_seen_at >= since)
    if until is not None:
        q = q.where(Article.first_seen_at < until)
    with db.engine.connect().execution_options(yield_per=chunksize, stream_results=True) as conn:
        for part in conn.execute(q).partitions(chunksize):
            frame = pd.DataFrame.from_records([tuple(r) for r in part], columns=ARTICLE_COLUMNS)
            frame["url"] = frame["url"].map(safe_http_url)
            yield frame


def graph_of(edges: pd.DataFrame) -> nx.DiGraph:
    """A directed graph of an edge frame: `weight` sums the kinds, each kind's count kept too."""
    graph = nx.DiGraph()
    for (source, target, platform), group in edges.groupby(["source", "target", "platform"], observed=True,
                                                            sort=True):
        kinds = {str(k): int(w) for k, w in zip(group["kind"], group["weight"])}
        graph.add_edge(source, target, weight=int(group["weight"].sum()), **kinds)
        graph.nodes[source]["platform"] = graph.nodes[target]["platform"] = str(platform)
    return graph
