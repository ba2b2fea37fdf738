"""The pieces a large posts read is built from: the author lookup kept in Arrow, and the time order."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlalchemy import update

from radpulse.db.engine import open_database
from radpulse.db.models import Author
from radpulse.db.store import upsert_authors
from radpulse.exports.posts import AuthorCache, time_order
from radpulse.records import AuthorRecord
from tests.conftest import _empty_pg


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path, pg_url):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'a.db'}"
    else:
        _empty_pg(pg_url)
        url = pg_url
    database = open_database(url)
    with database.engine.begin() as conn:
        upsert_authors(conn, [AuthorRecord("x", "1", handle="ann"),
                              AuthorRecord("x", "2", handle="bob"),
                              AuthorRecord("bluesky", "1", handle="cat.bsky.social"),
                              AuthorRecord("reddit", "t2_a:b", handle="odd")])
        for platform, kind in (("x", "radiologist"), ("bluesky", "journal")):  # as the analysis sets it
            conn.execute(update(Author).where(Author.platform == platform, Author.external_id == "1")
                         .values(author_type=kind))
    yield database
    database.engine.dispose()


def test_the_author_cache_finds_each_rows_account_across_chunks(db):
    cache = AuthorCache(db)
    handles, types = cache.columns(["x", "bluesky", "x", "x", "mastodon", "bluesky"], ["1", "1", "9", None, "1", "1"])
    assert handles.to_pylist() == ["ann", "cat.bsky.social", None, None, None, "cat.bsky.social"]
    assert types.to_pylist() == ["radiologist", "journal", None, None, None, "journal"]
    # a later chunk: known accounts from the cache, new ones read
    with db.engine.begin() as conn:
        upsert_authors(conn, [AuthorRecord("x", "9", handle="late")])
    handles, _ = cache.columns(pa.array(["x", "reddit", "x", "x"]), pa.array(["2", "t2_a:b", "1", "9"]))
    assert handles.to_pylist() == ["bob", "odd", "ann", None]  # x:9 was looked up (absent) in the first chunk
    assert AuthorCache(db).columns(["x"], ["9"])[0].to_pylist() == ["late"]
    empty = cache.columns([], [])
    assert len(empty[0]) == len(empty[1]) == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 10**6)), max_size=40, unique_by=lambda p: p[1]))
def test_time_order_sorts_by_time_then_id_or_says_none_is_needed(rows):
    times = np.array([t for t, _ in rows], dtype=np.int64)
    keys = np.array([k for _, k in rows], dtype=np.int64)
    order = time_order(times, keys)
    expected = np.lexsort((keys, times))
    if order is None:
        assert (expected == np.arange(len(rows))).all()
    else:
        assert (order == expected).all() and not (order == np.arange(len(rows))).all()


json_lists = st.one_of(
    st.just("null"),
    st.lists(st.one_of(st.none(), st.text(max_size=8)), max_size=4).map(lambda v: json.dumps(v, ensure_ascii=False)),
    st.lists(st.text(alphabet='a"\\\n\u00e9\U0001f600}{', max_size=5), max_size=3).map(json.dumps),
    st.sampled_from(["[1, 2]", '"tag"', '{"v": ["a"]}', "[]", '["a", 3]', "[true]"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(json_lists, max_size=20))
def test_list_columns_parsed_in_arrow_equal_the_python_parse(values):
    """Hashtags and themes read into Arrow are parsed by Arrow's JSON reader; any value it cannot
    take as an array of text (numbers, objects, escaped or raw line breaks) sends the column to
    the per-value parse, so the column is always what the Python parse gives."""
    from radpulse.exports.posts import _json_lists, _list_array, _list_column

    expected = _list_array(_json_lists(values))
    assert list(_list_column(pa.array(values, pa.string()))) == list(expected)
    assert list(_list_column(values)) == list(expected)


def test_list_columns_take_the_arrow_path_when_they_can():
    from radpulse.exports import posts

    column = pa.array(['["Radiology","RSNA2026"]', "null", "[]", '["é\\u00e9"]'], pa.string())
    parsed = posts._arrow_json_lists(column)
    assert parsed is not None and parsed.to_pylist() == [["Radiology", "RSNA2026"], [], [], ["éé"]]
    assert posts._arrow_json_lists(pa.array(['["a"]\n'], pa.string())) is None  # a line break: not one line per row
    assert posts._arrow_json_lists(pa.array(["[1]"], pa.string())) is None
