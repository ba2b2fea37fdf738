"""The conversation network of a window: edges, the graph, influence, one account's ties.

Edges come from the `interactions` table the store fills at collection (radpulse/db/edges.py).
For whole-day windows with at most platforms and author types chosen they are read from
`rollup_edge_daily` (radpulse/db/rollups.py: the public edges per day, the held rule applied
when the day was refreshed); otherwise (other facets, drill-down clauses, held posts asked for)
the edges are joined to their posts through `public_where`. Either way an edge of a held or
deleted post, or of a post outside the filters, never reaches an output; edges still waiting
for their referenced post and self-interactions are left out. An edge's `weight` is the number
of interactions of that kind from `source` to `target` in the window.

Accounts are author keys (``platform:external_id``, see `metrics.author_key`); a mentioned handle
radpulse has no profile of is ``platform:@handle``. Labels (handle, display name) come from
`authors`: dashboards show handles, the de-identified export never calls these functions.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import replace
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse
from cachetools import TTLCache
from sqlalchemy import and_, func, or_, select, tuple_, union_all

from radpulse.db.engine import Database
from radpulse.db.models import Author, Interaction, Post, ReviewDecision, RollupEdgeDaily, RollupStaleDay
from radpulse.db.queries import people, rollups
from radpulse.db.queries.filters import PostFilters, public_where
from radpulse.db.queries.metrics import engagement
from radpulse.db.queries.privacy import held_clause
from radpulse.db.days import as_dates, day_start

P = Post.__table__.c
E = Interaction.__table__.c
R = RollupEdgeDaily.__table__.c
A = Author.__table__.c

EDGE_COLUMNS = ["source", "target", "kind", "weight"]
INFLUENCE_COLUMNS = ["rank", "account", "platform", "handle", "display_name", "pagerank", "posts", "engagement",
                     "followers", "interactions_in", "interactions_out"]
#: how long a ranking may be served from the cache when no new edge or review decision arrived
#: (bounds the staleness after deletions and re-annotations, which add neither)
INFLUENCE_TTL_SECONDS = 300
_CACHE: TTLCache[tuple[Any, ...], pd.DataFrame] = TTLCache(maxsize=64, ttl=INFLUENCE_TTL_SECONDS)
_CACHE_LOCK = threading.Lock()


def _midnight(t: dt.datetime | None) -> bool:
    return t is None or t.astimezone(dt.timezone.utc).time() == dt.time(0)


def on_rollup(f: PostFilters) -> bool:
    """True when `rollup_edge_daily` answers for `f`: whole UTC days, public posts, at most
    platforms and author types chosen, no drill-down clause."""
    return (not f.extra and not f.include_held and not f.include_deleted and _midnight(f.start)
            and _midnight(f.end) and people.on_accounts(f))


def _rollup_where(f: PostFilters) -> list[Any]:
    clauses = rollups.day_window(R.day, f)
    if f.platforms:
        clauses.append(R.platform.in_(f.platforms))
    if f.author_types:  # the author of the edge's post: its source
        au = Author.__table__.alias("edge_author").c
        clauses.append(R.source.in_(select(au.platform + ":" + au.external_id).where(au.author_type.in_(f.author_types))))
    return clauses


def _edge_rows(db: Database, f: PostFilters, account: str | None = None) -> pd.DataFrame:
    """The window's edges (those of `account`, either way, if given) as read, not yet summed over
    days: source, target, kind, weight."""
    return pd.DataFrame([tuple(r) for r in _edge_tuples(db, f, account)], columns=EDGE_COLUMNS).astype({"weight": "int64"})


def _edge_tuples(db: Database, f: PostFilters, account: str | None = None) -> list[Any]:
    """The rows of `_edge_rows` (source, target, kind, weight), as the driver returns them.

    On the rollup, the days marked stale (written since the last refresh: today's during a
    collection run, every day after an upgrade) are read live, the others from the rollup."""
    live = [] if account is None else [or_(E.source == account, E.target == account)]
    with db.engine.connect() as conn:
        if not on_rollup(f):
            return conn.execute(_edge_select(f, *live)).all()
        fresh, stale = _rollup_split(conn, f)
        read = select(R.source, R.target, R.kind, R.interactions)
        if account is None:
            query = read.where(*fresh)
        else:  # each direction an index range (no self-edges here: the two never share a row)
            query = union_all(read.where(R.source == account, *fresh), read.where(R.target == account, *fresh))
        rows = conn.execute(query).all()
        return rows + _stale_edges(conn, f, stale, *live)


def _rollup_split(conn: Any, f: PostFilters) -> tuple[list[Any], list[dt.date]]:
    """The conditions on `rollup_edge_daily` for `f`'s days that the rollup holds, and the days of
    the window marked stale (to be read live from `interactions`)."""
    marked = select(RollupStaleDay.day).where(*rollups.day_window(RollupStaleDay.day, f))
    stale = sorted(as_dates(conn.execute(marked).scalars()))
    return [*_rollup_where(f), *([R.day.not_in(stale)] if stale else [])], stale


def _stale_edges(conn: Any, f: PostFilters, stale: list[dt.date], *live: Any) -> list[Any]:
    """The live edges (source, target, kind, weight) of the `stale` days."""
    if not stale:
        return []
    days = or_(*(and_(E.created_at >= day_start(d), E.created_at < day_start(d) + dt.timedelta(days=1)) for d in stale))
    return conn.execute(_edge_select(f, days, *live)).all()


def _account_weights(db: Database, f: PostFilters, key: str) -> dict[tuple[str, str, str], int]:
    """(other account, direction, kind) -> weight of one account's edges in `f`. On the rollup the
    database sums each direction (a busy account has tens of thousands of edge-days in a year);
    stale days and reads off the rollup are summed here."""
    totals: dict[tuple[str, str, str], int] = {}

    def add(rows: Any) -> None:
        for source, target, kind, weight in rows:
            if source == key:
                totals[(target, "out", kind)] = totals.get((target, "out", kind), 0) + int(weight)
            if target == key:
                totals[(source, "in", kind)] = totals.get((source, "in", kind), 0) + int(weight)

    live = or_(E.source == key, E.target == key)
    with db.engine.connect() as conn:
        if not on_rollup(f):
            add(conn.execute(_edge_select(f, live)))
            return totals
        fresh, stale = _rollup_split(conn, f)
        for mine, other, direction in ((R.source, R.target, "out"), (R.target, R.source, "in")):
            summed = select(other, R.kind, func.sum(R.interactions)).where(mine == key, *fresh).group_by(other, R.kind)
            for account, kind, weight in conn.execute(summed):
                totals[(account, direction, kind)] = totals.get((account, direction, kind), 0) + int(weight)
        add(_stale_edges(conn, f, stale, live))
    return totals


def _window(f: PostFilters) -> list[Any]:
    """The filters' window and platforms on the edge rows too (so the edge indexes can serve)."""
    clauses = [E.target.is_not(None), E.source != E.target]
    if f.start is not None:
        clauses.append(E.created_at >= f.start)
    if f.end is not None:
        clauses.append(E.created_at < f.end)
    if f.platforms:
        clauses.append(E.platform.in_(f.platforms))
    return clauses


def _edge_select(f: PostFilters, *where: Any) -> Any:
    """The live edges of the window from `interactions` and their posts, one row per edge."""
    joined = Interaction.__table__.join(Post.__table__, P.id == E.post_id)
    # the held rule on the edge's post id (the same post): SQLite then checks it only for the
    # window's posts that have edges, after the join, not for every post of the window
    held = [] if f.include_held else [~held_clause(E.post_id)]
    return (
        select(E.source, E.target, E.kind, func.count().label("weight"))
        .select_from(joined)
        .where(public_where(replace(f, include_held=True), P), *held, *_window(f), *where)
        .group_by(E.source, E.target, E.kind)
    )


def _summed(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (source, target, kind), heaviest first."""
    frame = frame.groupby(["source", "target", "kind"], as_index=False, sort=False)["weight"].sum()
    return frame.sort_values(["weight", "source", "target", "kind"], ascending=[False, True, True, True],
                             ignore_index=True)


def edges(db: Database, filters: PostFilters) -> pd.DataFrame:
    """The window's edges: one row per (source, target, kind) with its weight, heaviest first."""
    return _summed(_edge_rows(db, filters))


def _graph_of(frame: pd.DataFrame) -> nx.DiGraph:
    """A directed graph whose edge weight sums the kinds; each edge keeps its count per kind."""
    graph = nx.DiGraph()
    if frame.empty:
        return graph
    kinds = frame.pivot_table(index=["source", "target"], columns="kind", values="weight", aggfunc="sum",
                              fill_value=0)
    totals = kinds.sum(axis=1)
    names = list(kinds.columns)
    graph.add_edges_from(
        (source, target, {"weight": int(total), **{k: int(n) for k, n in zip(names, counts) if n}})
        for (source, target), total, counts in zip(kinds.index, totals.to_numpy(), kinds.to_numpy())
    )
    return graph


def graph(db: Database, filters: PostFilters) -> nx.DiGraph:
    """The window's network as a `networkx.DiGraph` (nodes labelled with platform, handle, name)."""
    g = _graph_of(edges(db, filters))
    labels = account_labels(db, list(g.nodes))
    nx.set_node_attributes(g, labels)
    return g


def account_labels(db: Database, accounts: list[str]) -> dict[str, dict[str, Any]]:
    """Platform, handle, display name and followers of each account key (from `authors`)."""
    out: dict[str, dict[str, Any]] = {}
    by_platform: dict[str, list[str]] = {}
    for key in accounts:
        platform, _, ident = key.partition(":")
        if ident.startswith("@"):  # a mentioned handle without a stored profile
            out[key] = {"platform": platform, "handle": ident[1:], "display_name": None, "followers": None}
        else:
            out[key] = {"platform": platform, "handle": None, "display_name": None, "followers": None}
            by_platform.setdefault(platform, []).append(ident)
    with db.engine.connect() as conn:
        for platform, idents in by_platform.items():
            for start in range(0, len(idents), 900):
                q = select(A.external_id, A.handle, A.display_name, A.followers).where(
                    A.platform == platform, A.external_id.in_(idents[start:start + 900]))
                for ident, handle, name, followers in conn.execute(q):
                    out[f"{platform}:{ident}"].update(handle=handle, display_name=name, followers=followers)
    return out


def _cache_token(db: Database) -> tuple[Any, ...]:
    """What changes when the network or the held set may have changed: newest edge and decision."""
    with db.engine.connect() as conn:
        return (conn.execute(select(func.max(E.id))).scalar(),
                conn.execute(select(func.max(ReviewDecision.id))).scalar())


def influence(db: Database, filters: PostFilters, limit: int = 50) -> pd.DataFrame:
    """The window's most influential accounts: weighted PageRank of its edge graph, with each
    account's posts, engagement and followers. Cached per (window, filters) until new edges or
    review decisions arrive (or `INFLUENCE_TTL_SECONDS` pass)."""
    key = None
    if not filters.extra:  # SQL extras cannot be compared: never cached
        key = (db.url, filters, limit, _cache_token(db))
        with _CACHE_LOCK:
            cached = _CACHE.get(key)
        if cached is not None:
            return cached.copy()
    frame = _influence(db, filters, limit)
    if key is not None:
        with _CACHE_LOCK:
            _CACHE[key] = frame
    return frame.copy()


def clear_influence_cache() -> None:
    """Forget every cached ranking."""
    with _CACHE_LOCK:
        _CACHE.clear()


def pagerank(sources: np.ndarray, targets: np.ndarray, weights: np.ndarray, n: int, *, alpha: float = 0.85,
             tol: float = 1e-12, max_iter: int = 1000) -> np.ndarray:
    """PageRank of the weighted directed graph on nodes 0..n-1 given as edge arrays (repeated
    edges add up): networkx's definition and power iteration (`nx.pagerank` with no
    personalization: damping `alpha`, a dangling node's rank spread over every node), on a sparse
    matrix built straight from the arrays instead of a `DiGraph` (whose construction costs ten
    times the iteration at a million edges), to a tighter tolerance (L1 change < n * `tol`)."""
    matrix = scipy.sparse.csr_array((weights.astype(float), (sources, targets)), shape=(n, n))
    out = np.asarray(matrix.sum(axis=1)).ravel()
    inverse = np.divide(1.0, out, out=np.zeros(n), where=out != 0)
    step = (scipy.sparse.dia_array((inverse, 0), shape=(n, n)) @ matrix).tocsr()
    dangling = out == 0
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        last = x
        x = alpha * (last @ step + last[dangling].sum() / n) + (1 - alpha) / n
        if np.abs(x - last).sum() < n * tol:
            return x
    raise nx.PowerIterationFailedConvergence(max_iter)


def _edge_codes(db: Database, filters: PostFilters) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]] | None:
    """The window's edges as (source codes, target codes, weights, node of each code), codes in
    order of first appearance; None when there are none. On the SQLite rollup the rows are read
    into Arrow (a year holds ~600,000 edge-days at a million posts, which as Python rows cost more
    than the PageRank) by a helper process (`radpulse.db.arrow_read.read_sql_in_helper`: ADBC's copy
    of SQLite must not open the file in this process), else as `_edge_tuples` gives them."""
    import pyarrow as pa

    table = None
    if db.dialect == "sqlite" and on_rollup(filters):
        from radpulse.db.arrow_read import read_statement_in_helper

        with db.engine.connect() as conn:
            fresh, stale = _rollup_split(conn, filters)
            live = _stale_edges(conn, filters, stale)
        table = read_statement_in_helper(db, select(R.source.label("source"), R.target.label("target"),
                                                    R.interactions.label("weight")).where(*fresh),
                                         {"source": "text", "target": "text", "weight": "int"})
    if table is not None:
        sources_ = pa.chunked_array([table.column("source").combine_chunks(),
                                     pa.array([r[0] for r in live], type=pa.string())]).combine_chunks()
        targets_ = pa.chunked_array([table.column("target").combine_chunks(),
                                     pa.array([r[1] for r in live], type=pa.string())]).combine_chunks()
        weights = np.concatenate([table.column("weight").to_numpy(), np.array([r[3] for r in live], dtype=np.int64)])
        if not len(weights):
            return None
        encoded = pa.concat_arrays([sources_, targets_]).dictionary_encode()
        codes = encoded.indices.to_numpy().astype(np.int64)
        return codes[: len(weights)], codes[len(weights):], weights.astype(np.int64), encoded.dictionary.to_pylist()
    rows = _edge_tuples(db, filters)
    if not rows:
        return None
    sources_, targets_, _, weights_ = zip(*rows)
    codes, nodes = pd.factorize(np.array(sources_ + targets_, dtype=object))
    return codes[: len(rows)], codes[len(rows):], np.array(weights_, dtype=np.int64), list(nodes)


def _influence(db: Database, filters: PostFilters, limit: int) -> pd.DataFrame:
    edges = _edge_codes(db, filters)
    if edges is None:
        return pd.DataFrame(columns=INFLUENCE_COLUMNS)
    sources, targets, weights, nodes = edges
    n = len(nodes)
    scores = pagerank(sources, targets, weights, n)
    inward = np.bincount(targets, weights, minlength=n)
    outward = np.bincount(sources, weights, minlength=n)
    floor = np.partition(scores, n - limit)[n - limit] if n > limit else -1.0  # the limit-th best score
    order = sorted(np.flatnonzero(scores >= floor).tolist(), key=lambda i: (-scores[i], nodes[i]))[:limit]
    accounts = [str(nodes[i]) for i in order]
    labels = account_labels(db, accounts)
    activity = _activity(db, filters, accounts)
    rows = []
    for rank, i in enumerate(order, start=1):
        account = str(nodes[i])
        lab = labels[account]
        posts, eng = activity.get(account, (0, 0))
        rows.append((rank, account, lab["platform"], lab["handle"], lab["display_name"], float(scores[i]), posts, eng,
                     lab["followers"], int(inward[i]), int(outward[i])))
    out = pd.DataFrame(rows, columns=INFLUENCE_COLUMNS)
    for name in ("posts", "engagement", "interactions_in", "interactions_out"):
        out[name] = out[name].astype("int64")
    out["followers"] = out["followers"].astype("Int64")
    return out


def _activity(db: Database, filters: PostFilters, accounts: list[str]) -> dict[str, tuple[int, int]]:
    """Public posts and their engagement in the window, per account key."""
    pairs = [tuple(k.split(":", 1)) for k in accounts if not k.partition(":")[2].startswith("@")]
    out: dict[str, tuple[int, int]] = {}
    if not pairs:
        return out
    if on_rollup(filters):
        return {f"{p}:{i}": sums for (p, i), sums in people.account_sums(db, filters, pairs).items()}
    eng = func.sum(engagement(P))
    with db.engine.connect() as conn:
        for start in range(0, len(pairs), 400):
            q = (select(P.platform, P.author_external_id, func.count(), eng)
                 .where(public_where(filters, P), tuple_(P.platform, P.author_external_id).in_(pairs[start:start + 400]))
                 .group_by(P.platform, P.author_external_id))
            for platform, ident, n, total in conn.execute(q):
                out[f"{platform}:{ident}"] = (int(n), int(total or 0))
    return out


def account_interactions(db: Database, platform: str, author_external_id: str, filters: PostFilters, *,
                         limit: int | None = None) -> pd.DataFrame:
    """Who an account interacts with in the window, both ways: one row per (other account,
    direction, kind) with its weight; `direction` is "out" (the account replied to, quoted,
    reposted or mentioned them) or "in" (they did so to the account). Heaviest first (ties: by
    account, direction, kind); the first `limit` rows if given (only those are labelled)."""
    totals = _account_weights(db, filters, f"{platform}:{author_external_id}")
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]
    labels = account_labels(db, sorted({account for (account, _, _), _ in ranked}))
    frame = pd.DataFrame([(account, labels[account]["handle"], labels[account]["display_name"], direction, kind, weight)
                          for (account, direction, kind), weight in ranked],
                         columns=["account", "handle", "display_name", "direction", "kind", "weight"])
    frame["weight"] = frame["weight"].astype("int64")
    return frame


__all__ = ["account_interactions", "account_labels", "clear_influence_cache", "edges", "graph", "influence", "on_rollup",
           "pagerank"]
