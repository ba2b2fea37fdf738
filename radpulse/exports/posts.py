"""Posts for research exports and the pandas API, as DataFrame chunks in constant memory."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Text, and_, cast, func, literal, select, type_coerce

from radpulse.db.engine import Database
from radpulse.db.models import AS_STORED, Annotation, Author, Meta, Post
from radpulse.db.queries import people
from radpulse.db.queries.filters import PostFilters, public_where
from radpulse.db.queries.metrics import engagement
from radpulse.db.queries.posts import arrow_posts_sql, stream_posts
from radpulse.db.reading import gc_paused, read_ahead
from radpulse.db.queries.privacy import ANNOTATOR_NAME
from radpulse.exports.deidentify import Pseudonymiser, link_lists, scrub_community, scrub_texts
from radpulse.safeurl import safe_http_url

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

_BOOLS = ("has_media", "is_deleted", "synthetic")
_LISTS = ("hashtags", "links", "mentions", "themes")
#: the list columns exported as stored (no rule per element): parsed in Arrow when read into Arrow
_ARROW_LISTS = ("hashtags", "themes")


def _read(column, name: str):  # type: ignore[no-untyped-def]
    """`column` read as the driver gives it (no per-value conversion in Python): JSON as its text,
    booleans as stored, times as stored; whole columns are converted at once in `_frame`."""
    if name in _LISTS:  # NULL as JSON's null: the column's values join into one array unchanged
        return func.coalesce(cast(column, Text), literal("null")).label(name)
    if name in _BOOLS or name == "created_at":
        return type_coerce(column, AS_STORED).label(name)
    return column.label(name)


_SOURCES = {
    "id": P.id, "platform": P.platform, "external_id": P.external_id, "url": P.url,
    "author_external_id": P.author_external_id,
    "created_at": P.created_at, "text": P.text, "title": P.title, "language": P.language, "community": P.community,
    "reply_count": P.reply_count, "like_count": P.like_count, "repost_count": P.repost_count,
    "quote_count": P.quote_count, "view_count": P.view_count, "score": P.score, "engagement": engagement(P),
    "has_media": P.has_media, "in_reply_to_id": P.in_reply_to_id, "quoted_id": P.quoted_id,
    "reposted_id": P.reposted_id, "hashtags": P.hashtags, "links": P.links, "mentions": P.mentions,
    "subspecialty": N.subspecialty, "themes": N.themes, "sentiment": N.sentiment, "is_deleted": P.is_deleted,
    "synthetic": P.synthetic,
}
#: what each kind of export reads (a de-identified one never reads post URLs)
_READ = {
    True: [n for n in _SOURCES if n not in ("id", "url")],
    False: [n for n in _SOURCES if n != "mentions"],
}
#: the pipeline's labels joined to each post; authors are looked up per chunk (`AuthorCache`)
_FROM = Post.__table__.outerjoin(Annotation.__table__, and_(N.post_id == P.id, N.model_name == ANNOTATOR_NAME))
class AuthorCache:
    """Handle and type of each post's author, each account read once per export (a chunk of
    posts names far fewer accounts than posts, and a join would look one up per post).

    The accounts read so far are kept as Arrow arrays, keyed by ``platform`` + U+001F + id, and a
    chunk's authors are found with one `pyarrow.compute.index_in` (no Python step per post)."""

    _SEP = "\x1f"  # never in a platform's name (the registry's names), so the first one splits a key

    def __init__(self, db: Database | None = None, *, lookup: Callable[[list[tuple[str, str]]], list] | None = None) -> None:
        """Accounts read from `db` (`people.authors_of`), or by `lookup` ((platform, external_id)
        keys to rows of (platform, external_id, handle, author_type)) where given."""
        self.lookup = lookup if lookup is not None else functools.partial(people.authors_of, db)
        self._keys = pa.array([], pa.string())
        self._handles = pa.array([], pa.string())
        self._types = pa.array([], pa.string())

    def columns(self, platforms: Sequence[str] | pa.Array, ids: Sequence[str | None] | pa.Array) -> tuple[pa.Array, pa.Array]:
        """The handles and author types of these (platform, author id) rows, as Arrow arrays
        (null where the id is missing or no account is stored)."""
        keys = pc.binary_join_element_wise(_text_array(platforms), _text_array(ids), self._SEP)
        found = pc.index_in(keys, value_set=self._keys)
        missing = pc.unique(pc.filter(keys, pc.and_(pc.is_null(found), pc.is_valid(keys))))
        if len(missing):
            wanted = sorted(tuple(k.split(self._SEP, 1)) for k in missing.to_pylist())
            stored = {(p, e): (h, t) for p, e, h, t in self.lookup(wanted)}
            rows = [stored.get(k, (None, None)) for k in wanted]  # type: ignore[call-overload]
            self._keys = pa.concat_arrays([self._keys, pa.array([self._SEP.join(k) for k in wanted], pa.string())])
            self._handles = pa.concat_arrays([self._handles, pa.array([h for h, _ in rows], pa.string())])
            self._types = pa.concat_arrays([self._types, pa.array([t for _, t in rows], pa.string())])
            found = pc.index_in(keys, value_set=self._keys)
        return self._handles.take(found), self._types.take(found)


def _text_array(values: Sequence[str | None] | pa.Array) -> pa.Array:
    """Text values as an Arrow string array."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values if values.type == pa.string() else values.cast(pa.string())
    return pa.array(values, pa.string())


def export_key(db: Database, key: str | None = None) -> str:
    """`key` (RADPULSE_EXPORT_KEY) when given, else the random key kept in the database (made once)."""
    if key:
        return key
    with db.session() as s:
        row = s.get(Meta, "export_salt")
        if row is None:
            row = Meta(key="export_salt", value=secrets.token_hex(16))
            s.add(row)
        return str(row.value)


def pseudonymiser(db: Database, key: str | None = None) -> Pseudonymiser:
    """Pseudonyms under `key` (RADPULSE_EXPORT_KEY), else under a random key kept in the database."""
    return Pseudonymiser(export_key(db, key).encode())


def empty_frame(identified: bool = False) -> pd.DataFrame:
    """A frame with no posts and the export's columns and dtypes."""
    empty: dict[str, Sequence] = {n: [] for n in [*_READ[not identified], "author_handle", "author_type"]}
    return _frame(empty, None if identified else Pseudonymiser(b""))


def iter_post_frames(
    db: Database, f: PostFilters, *, deidentify: bool = True, key: str | None = None, chunksize: int = 50_000,
    order_key: bool = False, ids: tuple[int, int] | None = None, authors: AuthorCache | None = None,
    arrow_in_time_order: bool = False, table: pa.Table | None = None,
) -> Iterator[pd.DataFrame]:
    """DataFrames of at most `chunksize` posts; de-identified unless `deidentify` is False.

    A de-identified export never includes held posts, whatever `f` says. `order_key` adds an
    `_order` column (the database's row id, to sort by after created_at; never for a file). Chunks
    come in the order of `stream_posts`; `ids` = (low, high) reads only low <= id < high. Each chunk is read as
    columns and converted a column at a time (`_frame`); de-identification works on whole
    columns too (`radpulse.exports.deidentify.scrub_texts`, `link_lists`, `Pseudonymiser.many`).

    `table`: the posts already read into Arrow (a worker's part, `post_table_sql`), taken in time
    order when `arrow_in_time_order`; then `db` is not used when `key` and `authors` are given.
    """
    if deidentify and f.include_held:
        f = PostFilters(**{**f.__dict__, "include_held": False})
    pseudo = pseudonymiser(db, key) if deidentify else None
    names = _READ[deidentify]
    columns = [_read(_SOURCES[n], n) for n in names]
    authors = authors if authors is not None else AuthorCache(db)
    for values in _column_chunks(db, f, names, columns, chunksize, ids, arrow_in_time_order, table):
        with gc_paused():
            values["author_handle"], values["author_type"] = authors.columns(values["platform"],
                                                                              values["author_external_id"])
            frame = _frame(values, pseudo)
            if order_key:
                frame["_order"] = np.asarray(values["_id"], dtype=np.int64)
        del values
        yield frame


#: the columns read as integers (the rest is text): counts, and booleans as SQLite stores them
_INTS = frozenset({"id", *COUNTS, *_BOOLS})
#: the columns `_frame` takes as Arrow arrays (no Python value per row): those it only retypes
_AS_ARROW = frozenset({"created_at", "language", "subspecialty", "sentiment", *COUNTS, *_BOOLS, "_id", *_ARROW_LISTS})


def _column_chunks(db: Database, f: PostFilters, names: list[str], columns: list, chunksize: int,
                   ids: tuple[int, int] | None, in_time_order: bool = False,
                   table: pa.Table | None = None) -> Iterator[dict[str, Sequence]]:
    """The posts as chunks of columns (name: values, and `_id`): from an Arrow `table` already read
    (sorted by (created_at, id) first when `in_time_order`), each chunk's columns becoming Python
    values where `_frame` needs them; else rows from `stream_posts` (the next page read while this
    one is converted)."""
    if table is not None:
        if in_time_order:  # SQLite's stored times sort as text in time order, as its ORDER BY does
            order = pc.sort_indices(table, sort_keys=[("created_at", "ascending"), ("_id", "ascending")])
            # one take of the whole table, its columns contiguous first: twice as fast as a take per
            # chunk from the reader's batches (the sorted copy replaces the table, same memory)
            table = table.combine_chunks().take(order)
            del order
        for start in range(0, table.num_rows, chunksize):
            part = table.slice(start, chunksize)
            yield {n: (part.column(n).combine_chunks() if n in _AS_ARROW else part.column(n).to_pylist())
                   for n in [*names, "_id"]}
        return
    for chunk in read_ahead(stream_posts(db, f, columns, chunksize=chunksize, from_obj=_FROM, ids=ids)):
        values = dict(zip(names, zip(*chunk)))
        values["_id"] = [row._id for row in chunk]
        del chunk
        yield values


def post_table_sql(db: Database, f: PostFilters, *, deidentify: bool, ids: tuple[int, int]) -> tuple[str, tuple, dict[str, str]]:
    """SQLite: the SQL, parameters and column kinds that read the posts `iter_post_frames` reads for
    `f` with low <= id < high, for `radpulse.db.arrow_read.read_sql` in a worker process."""
    if deidentify and f.include_held:
        f = PostFilters(**{**f.__dict__, "include_held": False})
    names = _READ[deidentify]
    sql, params = arrow_posts_sql(db, f, [_read(_SOURCES[n], n) for n in names], from_obj=_FROM, ids=ids)
    return sql, params, {**{n: "int" if n in _INTS else "text" for n in names}, "_id": "int"}


def _json_lists(values: Sequence[str | None]) -> list[list]:
    """JSON arrays stored as text ("null" for NULL), parsed in one call per column (null and
    anything but an array: [])."""
    parsed = None
    if values:
        try:
            parsed = orjson.loads("[" + ",".join(values) + "]")
        except (orjson.JSONDecodeError, TypeError):
            parsed = None
        if parsed is None or len(parsed) != len(values):  # a malformed value: each on its own
            parsed = [None if v is None else orjson.loads(v) for v in values]
    return [v if isinstance(v, list) else [] for v in (parsed or [])]


def _times(values: Sequence[object]) -> pd.Series:
    """UTC times from SQLite's text (Python or Arrow) or PostgreSQL's datetimes, as `datetime64[us, UTC]`."""
    if isinstance(values, pa.Array):
        series = pd.Series(_strings(values)) if _ARROW_TEXT else pd.Series(values.to_pylist(), dtype=object)
    else:
        series = pd.Series(values, dtype=object)
    series = pd.to_datetime(series, utc=True, format="ISO8601")
    return series.astype("datetime64[us, UTC]")


#: this pandas' default string dtype (pandas 3: Arrow-backed "str"; pandas 2: object)
_STR = pd.Series([""]).dtype


#: pandas keeps text in Arrow (pandas 3's default "str")
_ARROW_TEXT = isinstance(_STR, pd.StringDtype) and _STR.storage == "pyarrow"


def _strings(values: Sequence[object] | pa.Array) -> object:
    """A text column (Python values or an Arrow array): straight to Arrow when pandas keeps text
    there (much faster than letting pandas check each value), else as Python values (a value that
    is not text: pandas decides)."""
    if isinstance(values, pa.Array):
        return pd.array(values.cast(pa.large_string()), dtype=_STR) if _ARROW_TEXT else values.to_pylist()
    if _ARROW_TEXT:
        try:
            return pd.array(pa.array(values, type=pa.large_string()), dtype=_STR)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    return values


def _ints(values: Sequence[object] | pa.Array) -> object:
    """A count column as `Int64` (missing: <NA>), from Python values or an Arrow array."""
    if not isinstance(values, pa.Array):
        try:
            values = pa.array(values, type=pa.int64())
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return pd.array(values, dtype="Int64")
    numbers = values.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return pd.arrays.IntegerArray(numbers, values.is_null().to_numpy(zero_copy_only=False))


def _bools(values: Sequence[object] | pa.Array) -> object:
    """A flag column: numpy bool, or pandas' nullable `boolean` when a value is missing."""
    if isinstance(values, pa.Array) and values.null_count == 0:
        return values.to_numpy(zero_copy_only=False).astype(bool)
    array = pd.array(values.to_pylist() if isinstance(values, pa.Array) else list(values), dtype="boolean")
    return array if array.isna().any() else array.to_numpy(dtype=bool)


def _frame(c: dict[str, Sequence], pseudo: Pseudonymiser | None) -> pd.DataFrame:
    """A chunk's columns as the export's frame: typed, and de-identified when `pseudo` is given."""
    out: dict[str, object] = {}
    lists = {n: _list_column(c[n]) if n in _ARROW_LISTS else _json_lists(c[n]) for n in _LISTS if n in c}
    platforms = c["platform"]
    if pseudo is None:
        out.update(id=pd.array(c["id"], dtype="int64"), external_id=c["external_id"],
                   url=[safe_http_url(u) for u in c["url"]], platform=platforms,
                   author_external_id=c["author_external_id"], author_handle=c["author_handle"])
    else:
        out.update(post=pseudo.many("p", platforms, c["external_id"]), platform=platforms,
                   author=pseudo.many("a", platforms, c["author_external_id"], repeated=True))
    out["author_type"] = c["author_type"]
    out["created_at"] = _times(c["created_at"]).array
    if pseudo is None:
        out.update(text=c["text"], title=c["title"], language=c["language"], community=c["community"])
    else:
        author_handles = c["author_handle"]
        author_handles = author_handles.to_pylist() if isinstance(author_handles, pa.Array) else author_handles
        handles = [[h, *m] if h is not None else m for h, m in zip(author_handles, lists["mentions"])]
        communities: dict[str | None, str | None] = {}
        out.update(text=scrub_texts(c["text"], handles), title=scrub_texts(c["title"], handles),
                   language=c["language"],
                   community=[communities[v] if v in communities else communities.setdefault(v, scrub_community(v))
                              for v in c["community"]])
    for name in COUNTS:
        out[name] = _ints(c[name])
    out["has_media"] = _bools(c["has_media"])
    if pseudo is None:
        out.update(in_reply_to_id=c["in_reply_to_id"], quoted_id=c["quoted_id"], reposted_id=c["reposted_id"])
    else:
        out.update(in_reply_to=pseudo.many("p", platforms, c["in_reply_to_id"]),
                   quoted=pseudo.many("p", platforms, c["quoted_id"]),
                   reposted=pseudo.many("p", platforms, c["reposted_id"]))
    out.update(hashtags=lists["hashtags"], links=link_lists(lists["links"], deidentify=pseudo is not None),
               subspecialty=c["subspecialty"], themes=lists["themes"], sentiment=c["sentiment"],
               is_deleted=_bools(c["is_deleted"]), synthetic=_bools(c["synthetic"]))
    columns = DEIDENTIFIED_COLUMNS if pseudo is not None else IDENTIFIED_COLUMNS
    for name in columns:
        if name in _ARROW_LISTS:
            continue  # made by `_list_column`
        if name in _LISTS:
            out[name] = _list_array(out[name])  # type: ignore[arg-type]
        elif isinstance(out[name], list | tuple | pa.Array):
            out[name] = _strings(out[name])  # type: ignore[arg-type]
    return pd.DataFrame(out, columns=columns)


#: the dtype of the list columns (hashtags, links, themes): Arrow lists of text, which pandas
#: keeps in a few buffers (no Python list per row), Parquet stores as they are, and which
#: iterate as Python lists (`.list` accessor, `explode`)
LIST_DTYPE = pd.ArrowDtype(pa.list_(pa.string()))


def _list_column(values: Sequence[str | None] | pa.Array) -> object:
    """A column of JSON arrays stored as text ("null" for NULL) as the export's list column:
    from an Arrow array, parsed by Arrow's JSON reader (no Python value per row); else, or when
    a value is anything but an array of text or null (which `_json_lists` and `_list_array`
    handle one by one), as `_list_array(_json_lists(values))`."""
    if isinstance(values, pa.Array):
        parsed = _arrow_json_lists(values)
        if parsed is not None:
            return pd.array(parsed, dtype=LIST_DTYPE)
        values = values.to_pylist()
    return _list_array(_json_lists(values))


_JSON_LIST = pa.schema([("v", pa.list_(pa.string()))])


def _arrow_json_lists(values: pa.Array) -> pa.Array | None:
    """Text values each a JSON array of strings or null, as a list<string> array ([] for null);
    None when a value is missing, malformed, of another shape, or holds a line break (each
    value becomes one line of newline-delimited JSON, so one line per row is checked too)."""
    import pyarrow.json as pa_json

    if values.null_count or not len(values) or pc.any(pc.match_substring(values, "\n")).as_py():
        return None
    text = pa.large_string()  # 64-bit offsets: a chunk's lines may pass 2 GiB
    lines = pc.binary_join_element_wise(pa.scalar('{"v":', text), values.cast(text), pa.scalar("}\n", text),
                                        pa.scalar("", text))
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64, count=len(lines) + 1, offset=lines.offset * 8)
    body = lines.buffers()[2][int(offsets[0]):int(offsets[-1])]
    try:
        table = pa_json.read_json(pa.BufferReader(body), parse_options=pa_json.ParseOptions(explicit_schema=_JSON_LIST),
                                  read_options=pa_json.ReadOptions(use_threads=False, block_size=max(len(body), 1 << 20)))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows != len(values):
        return None
    column = table.column("v").combine_chunks()
    return pc.if_else(pc.is_null(column), pa.scalar([], column.type), column) if column.null_count else column


def _list_array(values: Sequence[list]) -> object:
    """Rows of lists of text as an Arrow list column (anything in a list that is not text is left out)."""
    try:
        return pd.array(pa.array(values, type=pa.list_(pa.string())), dtype=LIST_DTYPE)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        clean = [[x for x in v if isinstance(x, str)] for v in values]
        return pd.array(pa.array(clean, type=pa.list_(pa.string())), dtype=LIST_DTYPE)


def time_order(times: np.ndarray, keys: np.ndarray) -> np.ndarray | None:
    """The permutation that sorts rows by (created_at as `times`, id as `keys`), or None when they
    are in that order already."""
    times, keys = np.asarray(times), np.asarray(keys)
    if len(times) < 2:
        return None
    step, tie = np.diff(times), np.diff(keys)
    if not ((step < 0) | ((step == 0) & (tie < 0))).any():  # in order already (one pass, no sort)
        return None
    order = np.lexsort((keys, times))
    return order if (order != np.arange(len(order))).any() else None


def count_posts(db: Database, f: PostFilters) -> int:
    """How many posts `f` selects (for progress bars)."""
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Post.__table__).where(public_where(f, P))).scalar() or 0)
