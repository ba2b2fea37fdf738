"""`radpulse.open()`: the same typed frames from SQLite and PostgreSQL, privacy rules applied."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import insert

import radpulse
from radpulse.dataset import Dataset
from radpulse.db.engine import open_database
from radpulse.db.models import Annotation, Mention
from radpulse.db.queries.privacy import ANNOTATOR_NAME
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
