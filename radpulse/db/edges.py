"""The conversation network's edges: what stored posts imply, written as posts are stored.

One row of `interactions` per interaction a post records (see `Interaction`):

- **reply**: the post's author -> the author of `in_reply_to_id` (the same platform's post);
- **quote** / **repost**: likewise through `quoted_id` / `reposted_id`;
- **mention**: the post's author -> each account of its `mentions` list, looked up in `authors`
  by handle (case-insensitive), else by account id; an AT Protocol DID (Bluesky's mentions
  name accounts by DID) is an account id as it stands; otherwise ``platform:@handle``.

A referenced post that is not stored names its author only when its id does: an AT URI
(``at://<did>/...``) carries its author's DID. Otherwise the edge waits with `target` NULL and
is completed when that post is stored (`resolve_pending_posts`); a mention of a handle gets its
account key when that account's profile is stored (`resolve_pending_mentions`). Both mark the
days of the edges they complete stale: the readers read the public edges per day from
`rollup_edge_daily` (radpulse/db/rollups.py), refreshed with the other rollups.

The rows come from the stored posts (one INSERT .. SELECT per batch), not from the records, so
a re-ingest that keeps stored fields keeps their edges, and `rebuild_edges` writes exactly what
incremental writes would have. Posts without a known author record no edges; self-interactions
(a thread replying to itself) are stored and left out by the readers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

import orjson
from sqlalchemy import Connection, func, select, text

from radpulse.db.engine import Database
from radpulse.db.models import Interaction, Post
from radpulse.db.rollups import as_dates, day_of, mark_days, rebuild_edge_rollups, utc_day


class PostLike(Protocol):
    """What the writer reads of a post's record (radpulse's PostRecord)."""

    external_id: str
    author_external_id: str | None
    in_reply_to_id: str | None
    quoted_id: str | None
    reposted_id: str | None
    mentions: list[str]


#: posts per statement when rebuilding (by id range)
REBUILD_CHUNK = 50_000

_REFERENCES = (("in_reply_to_id", "reply"), ("quoted_id", "quote"), ("reposted_id", "repost"))

#: per dialect: the author DID of an AT URI column, a JSON array's elements as rows `m(value)`,
#: and "p.id is one of the bound :ids"
_DIALECT = {
    "sqlite": {
        "did": "substr({c}, 6, instr(substr({c}, 6), '/') - 1)",
        "elements": ", json_each(p.mentions) AS m",
        "ids": "p.id IN (SELECT value FROM json_each(:ids))",
        "edge_ids": "post_id IN (SELECT value FROM json_each(:ids))",
    },
    "postgresql": {
        "did": "split_part({c}, '/', 3)",
        "elements": " CROSS JOIN LATERAL jsonb_array_elements_text(p.mentions) AS m(value)",
        "ids": "p.id = ANY(CAST(:ids AS bigint[]))",
        "edge_ids": "post_id = ANY(CAST(:ids AS bigint[]))",
    },
}


def _reference_target(column: str, did: str) -> str:
    did_of = did.format(c=f"p.{column}")
    return (
        "COALESCE((SELECT r.platform || ':' || r.author_external_id FROM posts AS r"
        f" WHERE r.platform = p.platform AND r.external_id = p.{column}),"
        f" CASE WHEN p.{column} LIKE 'at://did:%/%' THEN p.platform || ':' || {did_of} END)"
    )


#: a DID names its account as it stands, before the lookup by account id: that lookup could only
#: give the same key (platform:DID), so a DID mention spares one probe of `authors`
#: (first: no handle is a DID, so a DID mention never needs the handle probe either)
_MENTION_TARGET = (
    "COALESCE(CASE WHEN m.value LIKE 'did:%' THEN p.platform || ':' || m.value END,"
    " (SELECT a.platform || ':' || a.external_id FROM authors AS a"
    " WHERE a.platform = p.platform AND lower(a.handle) = lower(m.value) ORDER BY a.id LIMIT 1),"
    " (SELECT a.platform || ':' || a.external_id FROM authors AS a"
    " WHERE a.platform = p.platform AND a.external_id = m.value),"
    " p.platform || ':@' || lower(m.value))"
)

_SQL_CACHE: dict[tuple[str, tuple[str, ...]], str] = {}
KINDS = tuple(kind for _, kind in _REFERENCES) + ("mention",)
_COLUMN = {kind: column for column, kind in _REFERENCES}


def _insert_sql(dialect: str, kinds: tuple[str, ...]) -> str:
    """INSERT .. SELECT of the edges of `kinds`: of the posts whose ids are bound as `:<kind>` (a
    batch), or with `:low < id <= :high` when `kinds` is ("range",) (a rebuild)."""
    key = (dialect, kinds)
    if key in _SQL_CACHE:
        return _SQL_CACHE[key]
    d = _DIALECT[dialect]

    def posts_where(kind: str) -> str:
        if kinds == ("range",):
            return "p.id > :low AND p.id <= :high"
        return d["ids"].replace(":ids", f":{kind}")

    source = "p.platform || ':' || p.author_external_id"
    wanted = KINDS if kinds == ("range",) else kinds
    parts = [
        f"SELECT p.id, p.platform, {source}, {_reference_target(_COLUMN[kind], d['did'])}, p.{_COLUMN[kind]},"
        f" '{kind}', p.created_at FROM posts AS p WHERE {posts_where(kind)} AND p.author_external_id IS NOT NULL"
        f" AND p.{_COLUMN[kind]} IS NOT NULL"
        for kind in wanted if kind != "mention"
    ]
    if "mention" in wanted:
        parts.append(
            f"SELECT p.id, p.platform, {source}, {_MENTION_TARGET}, NULL, 'mention', p.created_at"
            f" FROM posts AS p{d['elements']} WHERE {posts_where('mention')} AND p.author_external_id IS NOT NULL"
        )
    sql = _SQL_CACHE[key] = (
        "INSERT INTO interactions (post_id, platform, source, target, target_post, kind, created_at) "
        + " UNION ALL ".join(parts)
    )
    return sql


def _ids_param(conn: Connection, values: list[Any]) -> object:
    return orjson.dumps(values).decode() if conn.dialect.name == "sqlite" else values


def write_edges(conn: Connection, posts: Iterable[tuple[int, PostLike]]) -> None:
    """Replace the edges of a batch of just-stored posts, given as (id, record), by what the
    stored rows now imply.

    Only the posts that can have edges are read back: those whose record names a reference or
    mentions, and those that had edges (a refresh keeps stored references the record lacks).
    """
    batch = list(posts)
    if not batch:
        return
    dialect = conn.dialect.name
    ids = [pid for pid, _ in batch]
    had = {row[0] for row in conn.execute(
        text(f"DELETE FROM interactions WHERE {_DIALECT[dialect]['edge_ids']} RETURNING post_id"),
        {"ids": _ids_param(conn, ids)})}
    by_kind: dict[str, list[int]] = {kind: [] for kind in KINDS}
    for pid, rec in batch:
        again = pid in had
        if rec.in_reply_to_id or again:
            by_kind["reply"].append(pid)
        if rec.quoted_id or again:
            by_kind["quote"].append(pid)
        if rec.reposted_id or again:
            by_kind["repost"].append(pid)
        if rec.mentions or again:
            by_kind["mention"].append(pid)
    kinds = tuple(kind for kind in KINDS if by_kind[kind])
    if kinds:
        conn.execute(text(_insert_sql(dialect, kinds)), {k: _ids_param(conn, by_kind[k]) for k in kinds})
    resolve_pending_posts(conn, [rec.external_id for _, rec in batch if rec.author_external_id])


def resolve_pending_posts(conn: Connection, external_ids: list[str]) -> None:
    """Complete waiting replies, quotes and reposts whose referenced post is among these."""
    if not external_ids:
        return
    refs = ("(SELECT value FROM json_each(:refs))" if conn.dialect.name == "sqlite"
            else "(SELECT unnest(CAST(:refs AS text[])))")
    completed = conn.execute(
        text(
            "UPDATE interactions SET target = (SELECT r.platform || ':' || r.author_external_id FROM posts AS r"
            " WHERE r.platform = interactions.platform AND r.external_id = interactions.target_post)"
            f" WHERE target IS NULL AND target_post IN {refs} RETURNING created_at"
        ).columns(created_at=Interaction.__table__.c.created_at.type),
        {"refs": _ids_param(conn, external_ids)},
    ).scalars().all()
    mark_days(conn, {day_of(t) for t in completed})


def resolve_pending_mentions(conn: Connection, accounts: Iterable[tuple[str, str, str | None]]) -> None:
    """Give mentions of these accounts' handles the account's key ((platform, external_id, handle))."""
    keys = {f"{platform}:@{handle.lower()}": f"{platform}:{external_id}"
            for platform, external_id, handle in accounts if handle}
    if not keys:
        return
    pending = ("(SELECT value FROM json_each(:pending))" if conn.dialect.name == "sqlite"
               else "(SELECT unnest(CAST(:pending AS text[])))")
    found = conn.execute(text(f"SELECT DISTINCT target FROM interactions WHERE target IN {pending}"),
                         {"pending": _ids_param(conn, list(keys))}).scalars().all()
    if found:
        e = Interaction.__table__.c
        mark_days(conn, as_dates(conn.execute(
            select(utc_day(e.created_at, conn.dialect.name)).where(e.target.in_(found)).distinct()).scalars()))
        conn.execute(text("UPDATE interactions SET target = :key WHERE target = :pending"),
                     [{"key": keys[p], "pending": p} for p in found])


def rebuild_edges(db: Database, progress: Callable[[int], None] | None = None) -> int:
    """Rewrite the whole edge table from the stored posts, then `rollup_edge_daily`; the number
    of edges written.

    One transaction per `REBUILD_CHUNK` posts after the table is emptied; interrupted, it is
    simply run again.
    """
    with db.engine.begin() as conn:
        conn.execute(Interaction.__table__.delete())
        top = conn.execute(select(func.max(Post.id))).scalar() or 0
    for low in range(0, top, REBUILD_CHUNK):
        with db.engine.begin() as conn:
            fill_edges(conn, low, low + REBUILD_CHUNK)
        if progress:
            progress(min(REBUILD_CHUNK, top - low))
    rebuild_edge_rollups(db)
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Interaction)).scalar_one()


def fill_edges(conn: Connection, low: int, high: int) -> None:
    """Insert the edges of the posts with `low < id <= high` (their old edges must be gone)."""
    conn.execute(text(_insert_sql(conn.dialect.name, ("range",))), {"low": low, "high": high})
