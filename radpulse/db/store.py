"""Bulk, idempotent writes: posts, authors and articles upserted with each dialect's ON CONFLICT.

Re-ingesting an item refreshes it and never duplicates it: metrics are replaced only by
readings at least as recent as the stored ones, a deleted post's text and raw payload stay
purged, and fields the new payload lacks keep their stored values. Callers pass a connection in
a transaction; one call is one batch, so a failure leaves nothing of the batch half-written.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    LargeBinary,
    Table,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.dialects import postgresql

from radpulse.db.edges import resolve_pending_mentions, write_edges
from radpulse.db.engine import insert_for
from radpulse.db.models import Article, Author, Post, PostSource
from radpulse.identifiers import normalise_doi, normalise_pmcid, normalise_pmid
from radpulse.records import ArticleRecord, AuthorRecord, MergeRule, PostRecord, utcnow

POSTS: Table = Post.__table__  # type: ignore[assignment]
AUTHORS: Table = Author.__table__  # type: ignore[assignment]
ARTICLES: Table = Article.__table__  # type: ignore[assignment]
POST_SOURCES: Table = PostSource.__table__  # type: ignore[assignment]

DEFAULT_RULE = MergeRule()
METRICS = ("reply_count", "like_count", "repost_count", "quote_count", "view_count", "score")
#: rows per INSERT statement; SQLite allows 32,766 bound parameters per statement
CHUNK = 500


@dataclass
class UpsertResult:
    """What an upsert did: rows new and updated, and the id of each written key."""

    new: int = 0
    updated: int = 0
    ids: dict[Any, int] = field(default_factory=dict)

    def __iadd__(self, other: UpsertResult) -> UpsertResult:
        self.new += other.new
        self.updated += other.updated
        self.ids.update(other.ids)
        return self


def chunks(rows: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    """Consecutive slices of `rows` of at most `size` (bound-parameter limits, executemany pages)."""
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _latest_posts(records: Iterable[PostRecord]) -> list[PostRecord]:
    """One record per (platform, external_id): the most recently read one wins."""
    latest: dict[tuple[str, str], PostRecord] = {}
    epoch = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    for rec in records:
        key = (rec.platform, rec.external_id)
        old = latest.get(key)
        if old is None or (rec.metrics_read_at or epoch) >= (old.metrics_read_at or epoch):
            if old is not None and old.is_deleted:
                rec.is_deleted = True
            latest[key] = rec
        elif rec.is_deleted:
            old.is_deleted = True
    return list(latest.values())


#: the posts columns radpulse writes, in the order of the tuples built by `post_rows`
POST_COLUMNS = (
    "platform", "external_id", "author_external_id", "text", "title", "created_at", "url",
    "language", "community", "reply_count", "like_count", "repost_count", "quote_count",
    "view_count", "score", "metrics_read_at", "has_media", "in_reply_to_id", "quoted_id",
    "reposted_id", "conversation_id", "links", "hashtags", "mentions", "is_deleted", "deleted_at",
    "raw", "provenance", "synthetic", "first_seen_at", "collected_at", "text_changed_at",
)
#: columns whose values `Values.raw` gives SQLite as UTF-8 bytes: the SQL binds them as
#: CAST(? AS TEXT), which takes the bytes as the database's UTF-8 text without a conversion
RAW_COLUMNS = frozenset({"raw"})
AUTHOR_COLUMNS = (
    "platform", "external_id", "handle", "display_name", "bio", "followers", "following",
    "verified", "url", "raw", "synthetic", "first_seen_at", "updated_at",
)


_UTC = dt.timezone.utc


def _as_int(flag: Any) -> int:
    return 1 if flag else 0


class Values:
    """Converts Python values to what the connection's driver takes without SQLAlchemy's help.

    The formats match what SQLAlchemy itself writes (SQLite: 'YYYY-MM-DD HH:MM:SS.ffffff' in
    UTC; JSON as compact text), so rows written either way read back the same.
    """

    def __init__(self, conn: Connection) -> None:
        self.sqlite = conn.dialect.name == "sqlite"
        self._last: tuple[Any, str | None] = (None, None)
        #: booleans as SQLite stores them (1/0): Python's sqlite3 binds an int directly, a bool
        #: through its adapter lookup
        self.flag: Any = _as_int if self.sqlite else bool

    def ts(self, value: dt.datetime | None) -> Any:
        if value is None or not self.sqlite:
            return value
        if value.tzinfo is not _UTC:
            value = value.astimezone(_UTC)
        text_value = value.isoformat(" ")[:-6]  # without its "+00:00"
        return text_value if value.microsecond else text_value + ".000000"

    def raw(self, value: Any) -> str | bytes | None:
        """A raw payload as JSON: UTF-8 bytes for SQLite, which the SQL casts to TEXT (see
        `RAW_COLUMNS`), sparing a decode to str and the driver's encode back of every payload."""
        if value is None:
            return None
        # bytes are the payload's JSON text as the service sent it (see radpulse.records); bound
        # as they are (a copy to a bytearray would spare the driver's adapter lookup, but costs more)
        data = value if isinstance(value, bytes) else orjson.dumps(value, default=str)
        return data if self.sqlite else data.decode()

    def json_list(self, value: list[Any] | None) -> str:
        """A list as JSON text; empty or None as []."""
        return orjson.dumps(value, default=str).decode() if value else "[]"

    def json(self, value: Any) -> str | None:
        if value is None:
            return None
        if not value and isinstance(value, list):
            return "[]"
        if value is self._last[0]:  # one provenance dict is shared by every post of a page
            return self._last[1]
        text_value = orjson.dumps(value, default=str).decode()
        if isinstance(value, dict) and len(value) <= 4:
            self._last = (value, text_value)
        return text_value


#: PostRecord attributes stored as they are
_AS_IS = ("platform", "external_id", "author_external_id", "text", "title", "url", "language", "community",
          "reply_count", "like_count", "repost_count", "quote_count", "view_count", "score",
          "in_reply_to_id", "quoted_id", "reposted_id", "conversation_id")
_read_as_is = attrgetter(*_AS_IS)
_read_converted = attrgetter("created_at", "metrics_read_at", "has_media", "links", "hashtags", "mentions",
                             "is_deleted", "raw", "provenance")
_UNSET = object()


def _converted(items: Iterable[Any], convert: Callable[[Any], Any]) -> list[Any]:
    """`convert` of each item, once per run of the same object (a page's posts share one
    metrics_read_at and one provenance)."""
    out = []
    last: Any = _UNSET
    value = None
    for item in items:
        if item is not last:
            last, value = item, convert(item)
        out.append(value)
    return out


def post_columns(
    records: Sequence[PostRecord], now: dt.datetime, values: Values, synthetic: bool = False
) -> list[Sequence[Any]]:
    """Driver-ready values of `records`, one sequence per column of POST_COLUMNS; a deleted post
    carries no text, title or raw. Built column by column: one C-level pass reads every record's
    attributes, and each conversion runs over a whole column."""
    n = len(records)
    column: dict[str, Sequence[Any]] = dict(zip(_AS_IS, zip(*map(_read_as_is, records)))) if n else {
        name: () for name in _AS_IS}
    created, read_at, media, links, hashtags, mentions, deleted, raw, prov = (
        zip(*map(_read_converted, records)) if n else ((),) * 9)
    ts, flag = values.ts, values.flag
    now_v = ts(now)
    column.update(
        created_at=list(map(ts, created)), metrics_read_at=_converted(read_at, ts), has_media=list(map(flag, media)),
        links=list(map(values.json_list, links)), hashtags=list(map(values.json_list, hashtags)),
        mentions=list(map(values.json_list, mentions)), is_deleted=list(map(flag, deleted)),
        deleted_at=(None,) * n, raw=list(map(values.raw, raw)), provenance=_converted(prov, values.json),
        synthetic=(flag(synthetic),) * n, first_seen_at=(now_v,) * n, collected_at=(now_v,) * n,
        text_changed_at=(now_v,) * n,
    )
    if any(deleted):  # purged: no text, title or raw; deleted now
        gone = [i for i, flagged in enumerate(deleted) if flagged]
        for name, value in (("text", None), ("title", None), ("raw", None), ("deleted_at", now_v)):
            kept = list(column[name])
            for i in gone:
                kept[i] = value
            column[name] = kept
    return [column[name] for name in POST_COLUMNS]


def post_rows(records: Iterable[PostRecord], now: dt.datetime, values: Values, synthetic: bool = False) -> list[tuple]:
    """Driver-ready rows in POST_COLUMNS order (see `post_columns`)."""
    return list(zip(*post_columns(list(records), now, values, synthetic)))


def _post_changes(ex: Any, rule: MergeRule = DEFAULT_RULE) -> dict[str, Any]:
    """ON CONFLICT assignments for posts: newest metrics win, deletions stick, gaps keep old values;
    `rule` is the collector's MergeRule (see radpulse.records)."""
    t = POSTS.c
    newer = or_(t.metrics_read_at.is_(None), ex.metrics_read_at >= t.metrics_read_at)
    deleted = or_(t.is_deleted, ex.is_deleted)
    changes: dict[str, Any] = {
        name: case((newer, func.coalesce(ex[name], t[name])), else_=t[name]) for name in METRICS
    }
    if rule.per_community:
        # a reading from another community than the stored one only ever raises a count; one from
        # the same community (a rerun, or the refresh, which keeps the stored community) replaces it
        elsewhere = ex.community.is_distinct_from(t.community)
        changes = {
            name: case(
                (elsewhere, case((or_(t[name].is_(None), ex[name] > t[name]), ex[name]), else_=t[name])),
                else_=changes[name],
            )
            for name in METRICS
        }
    changes.update(
        metrics_read_at=case((newer, func.coalesce(ex.metrics_read_at, t.metrics_read_at)), else_=t.metrics_read_at),
        text=case((deleted, None), else_=func.coalesce(ex.text, t.text)),
        title=case((deleted, None), else_=func.coalesce(ex.title, t.title)),
        raw=case((deleted, None), else_=func.coalesce(ex.raw, t.raw)),
        is_deleted=deleted,
        deleted_at=func.coalesce(t.deleted_at, ex.deleted_at),
        text_changed_at=case(
            (
                or_(
                    and_(~deleted, ex.text.is_not(None), ex.text.is_distinct_from(t.text)),
                    and_(~deleted, ex.title.is_not(None), ex.title.is_distinct_from(t.title)),
                    and_(deleted, ~t.is_deleted),
                ),
                ex.collected_at,
            ),
            else_=t.text_changed_at,
        ),
        collected_at=ex.collected_at,
        provenance=func.coalesce(ex.provenance, t.provenance),
        has_media=or_(ex.has_media, t.has_media),
        links=ex.links,
        hashtags=ex.hashtags,
        mentions=ex.mentions,
    )
    # author_external_id is not refreshed: a post's author never changes, and leaving the
    # indexed column out of SET spares an index update per row on re-ingest
    for name in ("url", "language", "community", "in_reply_to_id", "quoted_id", "reposted_id",
                 "conversation_id"):
        changes[name] = func.coalesce(ex[name], t[name])
    if rule.per_community:  # the community a post was first read in stays its community
        changes["community"] = func.coalesce(t.community, ex.community)
    return changes


@functools.cache
def _post_changes_for(rule: MergeRule) -> Callable[[Any], dict[str, Any]]:
    """`_post_changes` under `rule`, one function per rule (the compiled SQL is cached on it)."""
    return functools.partial(_post_changes, rule=rule)


def _author_changes(ex: Any) -> dict[str, Any]:
    t = AUTHORS.c
    keep = ("handle", "display_name", "bio", "followers", "following", "verified", "url", "raw")
    return {**{k: func.coalesce(ex[k], t[k]) for k in keep}, "updated_at": ex.updated_at}


def bulk_upsert(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple],
    conflict: Sequence[str],
    changes: Any,
    *,
    want_ids: bool = True,
    compact: bool = True,
) -> UpsertResult:
    """INSERT .. ON CONFLICT DO UPDATE of driver-ready `rows` (tuples in `columns` order).

    With `compact` (SQLite), columns NULL in every row are left out (`_without_null_columns`);
    a caller that built the rows without them already passes False.

    `conflict` names the unique key (its columns come first in `columns`). The SQL is built by
    SQLAlchemy and stays parametrised. SQLite takes the rows through the driver's executemany
    (new rows are counted by their ids above the previous maximum); PostgreSQL COPYs them into
    a temporary table and merges with one INSERT .. SELECT .. RETURNING, its fastest bulk path.
    SQLAlchemy's per-value bind processing is skipped because in bulk loads it costs more than
    the database's own work (`Values` converts instead).
    """
    result = UpsertResult()
    if not rows:
        return result
    if conn.dialect.name == "postgresql":
        return _pg_copy_upsert(conn, table, columns, rows, conflict, changes)
    n_key = len(conflict)
    if compact:
        columns, rows = _without_null_columns(table, tuple(columns), rows, n_key)
    # rows inserted get ids above the current maximum (SQLite's rowid allocation), so one
    # indexed range count after the write tells new from updated without a lookup per key
    # the maximum is read holding the write lock (a write statement takes it, even one that
    # matches nothing): read before it, another writer's rows would be counted (and linked) as ours
    conn.exec_driver_sql(f"UPDATE {table.name} SET id = id WHERE 0")
    max_before = conn.execute(select(func.max(table.c.id))).scalar() or 0
    sql = _upsert_sql(conn, table, columns, tuple(conflict), changes)
    for chunk in chunks(rows, 10_000):
        conn.exec_driver_sql(sql, chunk)
    if not want_ids:
        result.new = conn.execute(select(func.count()).select_from(table).where(table.c.id > max_before)).scalar() or 0
        result.updated = len(rows) - result.new
        return result
    # the new rows' ids come from one range scan of the primary key; only updated rows are
    # looked up by their key
    key_cols = ", ".join(conflict)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:  # plain tuples straight from the driver: tens of thousands of rows per commit
        new_rows = cursor.execute(f"SELECT {key_cols}, id FROM {table.name} WHERE id > ?", (max_before,)).fetchall()
    finally:
        cursor.close()
    result.ids = {key[:-1]: key[-1] for key in new_rows}
    result.new = len(result.ids)
    result.updated = len(rows) - result.new
    if result.updated:
        keys = [row[:n_key] for row in rows]
        result.ids.update(_ids_for(conn, table, [k for k in keys if k not in result.ids]))
    return result


def _without_null_columns(
    table: Table, columns: tuple[str, ...], rows: Sequence[tuple], n_key: int
) -> tuple[tuple[str, ...], Sequence[tuple]]:
    """The columns and rows without the columns that are NULL in every row (SQLite).

    Python's sqlite3 binds None (and anything but int, float, str and bytearray) through its
    adapter lookup, about 0.4 µs a value: a post's row carries many NULLs (no title, no view
    count, not a reply, ...). Leaving a column out of the INSERT stores the same NULL, and the
    ON CONFLICT clauses see `excluded.<column>` as NULL just the same; only nullable columns
    without a default are left out. Transposing with zip keeps the check at C speed.
    """
    if len(rows) < 2:
        return columns, rows
    return _compact(table, columns, list(zip(*rows)), n_key)


def _compact(
    table: Table, columns: tuple[str, ...], by_column: Sequence[Sequence[Any]], n_key: int
) -> tuple[tuple[str, ...], list[tuple]]:
    """`_without_null_columns` of rows given column by column: the columns kept, and the rows."""
    n = len(by_column[0]) if by_column else 0
    omittable = _OMITTABLE[table.name]
    keep = [i for i in range(len(columns))
            if i < n_key or columns[i] not in omittable or by_column[i].count(None) != n]
    return tuple(columns[i] for i in keep), list(zip(*[by_column[i] for i in keep]))


#: per table, the columns an INSERT may leave out when NULL: nullable, no default
_OMITTABLE = {
    t.name: frozenset(c.name for c in t.columns if c.nullable and c.default is None and c.server_default is None)
    for t in (POSTS, AUTHORS)
}


def _pg_copy_upsert(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple], conflict: Sequence[str], changes: Any
) -> UpsertResult:
    stage_name = f"_radpulse_stage_{table.name}"
    cols = ", ".join(columns)
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {stage_name} AS SELECT {cols} FROM {table.name} WITH NO DATA"
    )
    conn.exec_driver_sql(f"TRUNCATE {stage_name}")
    if "raw" in columns:
        # staged payloads are read once: stored out of line uncompressed, not pglz-compressed
        # only to be decompressed by the merge (a third faster COPY of Bluesky pages)
        conn.exec_driver_sql(f"ALTER TABLE {stage_name} ALTER COLUMN raw SET STORAGE EXTERNAL")
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {stage_name} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    sql = _upsert_sql(conn, table, tuple(columns), tuple(conflict), changes, stage_name)
    result = UpsertResult()
    for row in conn.exec_driver_sql(sql):
        key = tuple(row[1 : 1 + len(conflict)])
        result.ids[key if len(key) > 1 else key[0]] = row[0]
        if row[-1]:
            result.new += 1
        else:
            result.updated += 1
    return result


#: compiled upsert SQL by (dialect, paramstyle, table, columns, key, changes, staging table):
#: building and compiling the statement costs more than writing a page of 100 posts
_SQL_CACHE: dict[tuple[Any, ...], str] = {}


def _upsert_sql(
    conn: Connection, table: Table, columns: tuple[str, ...], conflict: tuple[str, ...], changes: Any,
    stage_name: str | None = None,
) -> str:
    """The INSERT .. ON CONFLICT DO UPDATE text for this layout, compiled once per process."""
    key = (conn.dialect.name, conn.dialect.paramstyle, table.name, columns, conflict, changes, stage_name)
    sql = _SQL_CACHE.get(key)
    if sql is not None:
        return sql
    if stage_name is None:
        ins = insert_for(conn, table)
        if conn.dialect.name == "sqlite":
            ins = ins.values({
                c: cast(bindparam(c, type_=LargeBinary), Text) if c in RAW_COLUMNS else bindparam(c, type_=table.c[c].type)
                for c in columns
            })
        stmt = ins.on_conflict_do_update(index_elements=list(conflict), set_=changes(ins.excluded))
        compiled = stmt.compile(dialect=conn.dialect, column_keys=list(columns))
        if tuple(compiled.positiontup or ()) != columns:
            raise RuntimeError("compiled upsert parameters do not match the row layout")
    else:
        stage = sa_table(stage_name, *[sa_column(c) for c in columns])
        ins = postgresql.insert(table).from_select(list(columns), select(*[stage.c[c] for c in columns]))
        inserted = (sa_column("xmax", type_=Text) == literal_column("'0'")).label("inserted")
        stmt = ins.on_conflict_do_update(index_elements=list(conflict), set_=changes(ins.excluded)).returning(
            table.c.id, *[table.c[k] for k in conflict], inserted
        )
        compiled = stmt.compile(dialect=conn.dialect)
        if compiled.params:
            raise RuntimeError("the staged upsert must not take parameters")
    sql = _SQL_CACHE[key] = str(compiled)
    return sql


def upsert_posts(
    conn: Connection,
    records: Iterable[PostRecord],
    *,
    now: dt.datetime | None = None,
    source_id: int | None = None,
    synthetic: bool = False,
    returning: bool = True,
    rule: MergeRule = DEFAULT_RULE,
) -> UpsertResult:
    """Insert or refresh posts; link them to `source_id`; write their network edges (replies,
    quotes, reposts, mentions: radpulse.db.edges). Returns new/updated counts and ids.

    `rule` is how readings of stored posts merge (the collector's `merge_rule`). `returning` is
    kept for callers; the ids are always read back, as the edges need them.
    """
    now = now or utcnow()
    latest = _latest_posts(records)
    if not latest:
        return UpsertResult()
    key = ("platform", "external_id")
    by_column = post_columns(latest, now, Values(conn), synthetic)
    if conn.dialect.name == "sqlite":
        columns, rows = _compact(POSTS, POST_COLUMNS, by_column, len(key))
    else:
        columns, rows = POST_COLUMNS, list(zip(*by_column))
    result = bulk_upsert(conn, POSTS, columns, rows, key, _post_changes_for(rule), want_ids=True, compact=False)
    if source_id is not None and result.ids:
        link_posts_to_source(conn, result.ids.values(), source_id, now=now)
    ids = result.ids
    write_edges(conn, ((ids[(r.platform, r.external_id)], r) for r in latest))
    return result


def _ids_for(conn: Connection, table: Table, keys: Sequence[tuple[str, str]]) -> dict[Any, int]:
    """The id of each stored (platform, external_id) among `keys`."""
    groups: dict[str, list[str]] = {}
    for platform, external_id in keys:
        groups.setdefault(platform, []).append(external_id)
    ids: dict[Any, int] = {}
    c = table.c
    for platform, external_ids in groups.items():
        for chunk in chunks(external_ids, 900):
            query = select(c.id, c.external_id).where(c.platform == platform, c.external_id.in_(chunk))
            for row_id, external_id in conn.execute(query):
                ids[(platform, external_id)] = row_id
    return ids


def link_posts_to_source(
    conn: Connection, post_ids: Iterable[int], source_id: int, *, now: dt.datetime | None = None
) -> None:
    """Record that `source_id` matched these posts (idempotent)."""
    now_v = Values(conn).ts(now or utcnow())
    if conn.dialect.name == "sqlite":
        # one statement for the whole batch: SQLite reads the ids from one JSON array
        conn.exec_driver_sql(
            "INSERT INTO post_sources (post_id, source_id, first_seen_at) "
            "SELECT value, ?, ? FROM json_each(?) WHERE true ON CONFLICT (post_id, source_id) DO NOTHING",
            (source_id, now_v, orjson.dumps(list(post_ids)).decode()),
        )
        return
    # PostgreSQL: one statement too, the ids as one bigint[] parameter
    conn.exec_driver_sql(
        "INSERT INTO post_sources (post_id, source_id, first_seen_at) "
        "SELECT unnest(%(ids)s::bigint[]), %(source)s, %(at)s ON CONFLICT (post_id, source_id) DO NOTHING",
        {"ids": list(post_ids), "source": source_id, "at": now_v},
    )


def upsert_authors(
    conn: Connection, records: Iterable[AuthorRecord], *, now: dt.datetime | None = None, synthetic: bool = False,
    want_ids: bool = False,
) -> UpsertResult:
    """Insert or refresh authors, unique by (platform, external_id); missing fields keep old values."""
    now = now or utcnow()
    latest = {(a.platform, a.external_id): a for a in records}
    v = Values(conn)
    now_v = v.ts(now)
    rows = [
        (a.platform, a.external_id, a.handle, a.display_name, a.bio, a.followers, a.following,
         None if a.verified is None else v.flag(a.verified), a.url, v.raw(a.raw), v.flag(synthetic), now_v, now_v)
        for a in latest.values()
    ]
    result = bulk_upsert(conn, AUTHORS, AUTHOR_COLUMNS, rows, ("platform", "external_id"), _author_changes,
                         want_ids=want_ids)
    resolve_pending_mentions(conn, ((a.platform, a.external_id, a.handle) for a in latest.values()))
    return result


def _merge_articles(records: Iterable[ArticleRecord]) -> dict[str, ArticleRecord]:
    merged: dict[str, ArticleRecord] = {}
    for rec in records:
        rec.doi = normalise_doi(rec.doi) or None
        rec.pmid = normalise_pmid(rec.pmid)
        rec.pmcid = normalise_pmcid(rec.pmcid)
        key = rec.key
        old = merged.get(key)
        if old is None:
            merged[key] = rec
            continue
        for name in ("doi", "pmid", "pmcid", "url", "title", "journal", "issn", "abstract",
                     "published_date", "entrez_date", "crossref_status", "raw", "provenance"):
            if getattr(rec, name) is not None:
                setattr(old, name, getattr(rec, name))
        old.authors = rec.authors or old.authors
        old.mesh_terms = rec.mesh_terms or old.mesh_terms
        if rec.source and rec.source != old.source:
            old.source = ",".join(sorted({*(old.source or "").split(","), rec.source} - {""}))
    return merged


def upsert_articles(
    conn: Connection, records: Iterable[ArticleRecord], *, now: dt.datetime | None = None, synthetic: bool = False
) -> UpsertResult:
    """Insert or enrich articles keyed on DOI, else PMID, else canonical URL; ids by key."""
    now = now or utcnow()
    merged = _merge_articles(records)
    result = UpsertResult()
    if not merged:
        return result
    known: dict[str, list[str]] = {}
    keys = list(merged)
    for chunk in chunks(keys, 900):
        for key, sources in conn.execute(select(ARTICLES.c.key, ARTICLES.c.sources).where(ARTICLES.c.key.in_(chunk))):
            known[key] = list(sources or [])
    rows = []
    for key, a in merged.items():
        sources = sorted(set(known.get(key, [])) | set(filter(None, (a.source or "").split(","))))
        rows.append(
            {
                "key": key, "doi": a.doi, "pmid": a.pmid, "pmcid": a.pmcid, "url": a.url,
                "title": a.title, "journal": a.journal, "issn": a.issn, "authors": a.authors,
                "abstract": a.abstract, "published_date": a.published_date,
                "entrez_date": a.entrez_date, "mesh_terms": a.mesh_terms, "sources": sources,
                "crossref_status": a.crossref_status, "raw": a.raw, "provenance": a.provenance,
                "synthetic": synthetic, "first_seen_at": now, "updated_at": now,
            }
        )
    ins = insert_for(conn, ARTICLES)
    ex, t = ins.excluded, ARTICLES.c
    scalars = ("doi", "pmid", "pmcid", "url", "title", "journal", "issn", "abstract", "published_date",
               "entrez_date", "crossref_status", "raw", "provenance")
    changes: dict[str, Any] = {k: func.coalesce(ex[k], t[k]) for k in scalars}
    for k in ("authors", "mesh_terms"):
        changes[k] = case((cast(ex[k], Text) == literal("[]"), t[k]), else_=ex[k])
    changes.update(sources=ex.sources, updated_at=ex.updated_at)
    stmt = ins.on_conflict_do_update(index_elements=["key"], set_=changes).returning(
        t.id, t.key, (t.first_seen_at == t.updated_at).label("is_new")
    )
    for chunk in chunks(rows, 200):
        for row in conn.execute(stmt, chunk):
            result.ids[row.key] = row.id
            result.new += bool(row.is_new)
            result.updated += not row.is_new
    return result
