"""`radpulse.open()`: the same typed frames from SQLite and PostgreSQL, privacy rules applied."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import insert

import radpulse
from radpulse.dataset import Dataset
from radpulse.dataset_frames import DAILY_DIMENSIONS, daily_from_posts, typed_daily
from radpulse.db.engine import open_database
from radpulse.db.models import Annotation, Mention
from radpulse.db.queries.privacy import ANNOTATOR_NAME
from radpulse.db.rollups import mark_days, rebuild_rollups
from radpulse.db.store import upsert_articles, upsert_authors, upsert_posts
from radpulse.errors import InputError
from radpulse.records import ArticleRecord, AuthorRecord, PostRecord
from tests.conftest import _empty_pg

T = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)


def seed(db) -> None:  # type: ignore[no-untyped-def]
    authors = [AuthorRecord("x", f"u{i}", handle=f"rad{i}", followers=10 * i) for i in range(5)]
    posts = [PostRecord("x" if i % 3 else "bluesky", f"p{i}", f"post {i} about CT @rad{(i + 1) % 5}",
                        T + dt.timedelta(hours=i), author_external_id=f"u{i % 5}", like_count=i,
                        reply_count=1, mentions=[f"rad{(i + 1) % 5}"]) for i in range(30)]
    with db.engine.begin() as conn:
        upsert_authors(conn, authors)
        ids = upsert_posts(conn, posts).ids
        art = upsert_articles(conn, [ArticleRecord(doi="10.1148/abc", title="Paper")]).ids["doi:10.1148/abc"]
        conn.execute(insert(Mention), [{"post_id": ids[("x", "p1")], "article_id": art, "kind": "doi",
                                        "matched": "10.1148/abc", "created_at": T}])
        conn.execute(insert(Annotation), [
            {"post_id": pid, "model_name": ANNOTATOR_NAME, "model_version": "v1", "annotated_at": T,
             "sentiment": ("positive", "neutral", "negative")[n % 3], "sentiment_score": 0.5,
             "subspecialty": "chest" if n % 2 else "neuro", "subspecialties": [], "themes": ["ai"] if n % 4 == 0 else [],
             "flags": ["privacy_risk"] if n == 7 else []}
            for n, pid in enumerate(ids.values())])
    rebuild_rollups(db)  # what collection and analysis keep current


@pytest.fixture
def both(tmp_path, pg_url):  # type: ignore[no-untyped-def]
    _empty_pg(pg_url)
    out = []
    for url in (f"sqlite:///{tmp_path / 'a.db'}", pg_url):
        db = open_database(url)
        seed(db)
        out.append(Dataset(db, key="project-key"))
    yield out
    for ds in out:
        ds.close()


def _same(a: pd.DataFrame, b: pd.DataFrame, by: list[str]) -> None:
    a = a.sort_values(by).reset_index(drop=True)
    b = b.sort_values(by).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_categorical=False)


def test_every_method_returns_the_same_typed_frames_on_both_databases(both):
    lite, pg = both
    posts = lite.posts()
    assert len(posts) == 29  # the held post is left out
    assert str(posts["created_at"].dtype).startswith("datetime64") and str(posts["created_at"].dt.tz) == "UTC"
    assert isinstance(posts["platform"].dtype, pd.CategoricalDtype) and posts["like_count"].dtype == "Int64"
    assert posts["text"].str.contains("@rad").sum() == 0 and posts["text"].str.contains("@user").all()
    _same(posts, pg.posts(), ["post"])
    _same(lite.posts(themes=["ai"], platforms=["x"]), pg.posts(themes=["ai"], platforms=["x"]), ["post"])
    assert set(lite.posts(sentiments=["negative"])["sentiment"]) == {"negative"}
    _same(lite.authors(), pg.authors(), ["author"])
    assert "handle" not in lite.authors().columns and lite.authors()["posts"].dtype == "Int64"
    _same(lite.mentions(), pg.mentions(), ["post"])
    _same(lite.annotations(), pg.annotations(), ["post"])
    assert len(lite.annotations()) == 29
    art_l, art_p = lite.articles(), pg.articles()
    assert art_l["doi"].tolist() == art_p["doi"].tolist() == ["10.1148/abc"]


def test_a_read_on_several_cores_gives_the_frame_of_one(both, monkeypatch):
    """posts() over PARALLEL_MIN_ROWS is read by worker processes, one time part each (and on
    SQLite through Arrow): the same rows, order, values and dtypes as reading in this process."""
    from radpulse.exports import parallel

    monkeypatch.setattr("radpulse.dataset.PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(parallel, "PART_ROWS", 7)  # 30 posts: five time parts for two workers
    started: list = []
    monkeypatch.setattr("radpulse.dataset.parallel_post_frames", _counting(parallel.parallel_post_frames, started))
    for ds in both:
        for options in ({}, {"identified": True}, {"platforms": ["x"], "since": T + dt.timedelta(hours=5)},
                        {"identified": True, "include_held": True}):
            one = Dataset(ds.db, key=ds._key, workers=1).posts(**options)
            many = Dataset(ds.db, key=ds._key, workers=2).posts(**options)
            pd.testing.assert_frame_equal(one, many)
            assert len(many) and many["created_at"].is_monotonic_increasing
        # no key given: the salt stored in the database, the same for every worker
        unkeyed = [Dataset(ds.db, workers=w).posts() for w in (1, 2)]
        pd.testing.assert_frame_equal(*unkeyed)
    assert started == [2] * 10
    parts = parallel.time_parts(both[0].db, both[0].filters(), 29, 2)
    assert len(parts) == 5 and parts[0].start is None and parts[-1].end is None
    assert all(a.end == b.start for a, b in zip(parts, parts[1:]))


def test_a_worker_that_fails_or_dies_is_reported_and_leaves_no_files(both, monkeypatch, tmp_path):
    """A worker's error reaches the caller as itself; a worker killed (out of memory) as an
    InputError that says how to read with fewer workers; no part file is left behind."""
    import multiprocessing
    import os

    from radpulse.errors import DatabaseError, InputError
    from radpulse.exports import parallel

    lite = both[0]
    monkeypatch.setattr("radpulse.dataset.PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(parallel, "_context", lambda: multiprocessing.get_context("fork"))  # sees the patches
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(parallel, "_scratch", lambda rows: str(scratch))

    def locked(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise DatabaseError("The database is locked.", hint="Try again when the writer is done.")

    monkeypatch.setattr(parallel, "iter_post_frames", locked)  # in the worker, reading through ADBC or not
    with pytest.raises(DatabaseError, match="locked"):
        Dataset(lite.db, key="k", workers=2).posts()
    monkeypatch.setattr(parallel, "iter_post_frames", lambda *a, **k: os._exit(9))
    with pytest.raises(InputError, match="workers=1"):
        Dataset(lite.db, key="k", workers=2).posts()
    assert list(scratch.iterdir()) == []
    assert len(Dataset(lite.db, key="k", workers=1).posts()) == 29  # one process: unaffected


def _counting(function, calls):  # type: ignore[no-untyped-def]
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs.get("workers"))
        return function(*args, **kwargs)
    return wrapper


def test_held_posts_only_identified_and_large_results_refused(both, tmp_path):
    lite, _ = both
    with pytest.raises(InputError, match="identified"):
        lite.posts(include_held=True)
    assert len(lite.posts(include_held=True, identified=True)) == 30
    small = Dataset(lite.db, key="k", max_rows=10)
    with pytest.raises(InputError, match="iter_posts"):
        small.posts()
    assert sum(len(c) for c in small.iter_posts(chunksize=7)) == 29
    assert small.to_parquet(tmp_path / "p.parquet") == 29
    assert len(pd.read_parquet(tmp_path / "p.parquet")) == 29


def test_open_takes_a_path_or_url_and_refuses_a_missing_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    seed(open_database(url))
    with radpulse.open(tmp_path / "x.db") as ds:
        assert ds.count_posts() == 29
    with pytest.raises(InputError, match="No database file"):
        radpulse.open(tmp_path / "missing.db")


def test_daily_edges_and_graph_are_the_same_on_both_databases(both):
    lite, pg = both
    day = lite.daily()
    assert list(day.columns) == ["day", "platform", "posts", "engagement", "likes", "reposts", "replies",
                                 "quotes", "score"]
    assert str(day["day"].dt.tz) == "UTC" and day["posts"].dtype == "Int64"
    assert isinstance(day["platform"].dtype, pd.CategoricalDtype)
    posts = lite.posts()
    assert int(day["posts"].sum()) == len(posts) == 29
    assert int(day["engagement"].sum()) == int(posts["engagement"].sum())
    per_day = posts.groupby(posts["created_at"].dt.floor("D"))["post"].count()
    assert day.groupby("day")["posts"].sum().astype(int).to_dict() == per_day.to_dict()
    _same(day, pg.daily(), ["day", "platform"])
    by_label = lite.daily(by=["platform", "sentiment"], platforms=["x"])
    _same(by_label, pg.daily(by=["platform", "sentiment"], platforms=["x"]), ["day", "platform", "sentiment"])
    assert set(by_label["platform"]) == {"x"} and int(by_label["posts"].sum()) == len(lite.posts(platforms=["x"]))
    with pytest.raises(ValueError, match="daily"):
        lite.daily(by=["colour"])

    edges = lite.edges()
    assert list(edges.columns) == ["platform", "source", "target", "kind", "weight"]
    assert len(edges) > 0 and set(edges["kind"]) == {"mention"}
    assert edges["source"].str.startswith("a_").all() and edges["target"].str.startswith("a_").all()
    x_edges = edges[edges["platform"] == "x"]
    assert len(x_edges) and set(x_edges["source"]) <= set(lite.authors()["author"])  # authors()' pseudonyms
    _same(edges, pg.edges(), ["source", "target", "kind"])
    ident = lite.edges(identified=True)
    assert ident["source"].str.match(r"^(x|bluesky):u\d$").all()
    assert int(ident["weight"].sum()) == int(edges["weight"].sum())
    # the held post (n == 7) is in no edge: its mention would be u2 -> u3 on its platform
    held_only = lite.edges(identified=True, include_held=True)
    assert int(held_only["weight"].sum()) == int(ident["weight"].sum()) + 1

    g = lite.graph()
    assert g.number_of_edges() == len(edges.groupby(["source", "target"]))
    assert sum(w for *_, w in g.edges(data="weight")) == int(edges["weight"].sum())
    assert all(n.startswith("a_") for n in g.nodes) and {d["platform"] for _, d in g.nodes(data=True)} <= {"x", "bluesky"}
    gp = pg.graph()
    assert sorted(g.edges(data=True)) == sorted(gp.edges(data=True))


def test_daily_reads_the_rollups_and_equals_the_posts_or_reads_the_posts_while_a_day_is_stale(both):
    for ds in both:
        f = ds.filters()
        for dim in DAILY_DIMENSIONS:
            _same(ds.daily(by=[dim]), typed_daily(daily_from_posts(ds.db, f, [dim]), [dim]), ["day", dim])
        with ds.db.engine.begin() as conn:  # a new post not yet in the rollups, its day marked stale
            upsert_posts(conn, [PostRecord("x", "late", "late post", T, author_external_id="u1", like_count=5)])
            mark_days(conn, [T.date()])
        assert int(ds.daily()["posts"].sum()) == len(ds.posts()) == 30


def test_a_worker_reading_through_adbc_opens_the_file_with_no_other_copy_of_sqlite(both, monkeypatch):
    """ADBC carries its own SQLite: a worker that reads its part through it must not also open the
    file through the sqlite3 module (radpulse.db.arrow_read), and its frames are those of one
    process; a worker whose ADBC read fails reads through SQLAlchemy alone."""
    import multiprocessing

    from radpulse.db import arrow_read
    from radpulse.exports import parallel

    lite = both[0]
    monkeypatch.setattr("radpulse.dataset.PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(parallel, "PART_ROWS", 7)
    monkeypatch.setattr(parallel, "_context", lambda: multiprocessing.get_context("fork"))  # sees the patches
    one = Dataset(lite.db, key="k", workers=1).posts()

    def no_sqlalchemy(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the worker opened the file through SQLAlchemy beside ADBC")

    monkeypatch.setattr(parallel, "open_database", no_sqlalchemy)
    pd.testing.assert_frame_equal(Dataset(lite.db, key="k", workers=2).posts(), one)
    monkeypatch.undo()
    monkeypatch.setattr("radpulse.dataset.PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(parallel, "PART_ROWS", 7)
    monkeypatch.setattr(parallel, "_context", lambda: multiprocessing.get_context("fork"))
    monkeypatch.setattr(arrow_read, "read_sql", lambda *a, **k: None)  # the driver refuses: SQLAlchemy only
    pd.testing.assert_frame_equal(Dataset(lite.db, key="k", workers=2).posts(), one)
