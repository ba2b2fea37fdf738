"""`radpulse db copy`: an annotated demo database copied to PostgreSQL reads the same, and an
interrupted copy resumes without duplicates."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, insert, inspect, select, text

from radpulse.analysis.store import analyze
from radpulse.cli.main import cli
from radpulse.config import settings_from_dict, default_config_data
from radpulse.dataset import Dataset
from radpulse.db import copy as dbcopy
from radpulse.db.engine import open_database
from radpulse.db.models import Post, Source
from radpulse.db.queries import PostFilters
from radpulse.db.queries.network import influence
from radpulse.demo import build_demo
from radpulse.digest.content import build_digest
from tests.conftest import PG_ADMIN_URL

END = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path_factory.mktemp('copy') / 'demo.db'}"
    db = open_database(url)
    build_demo(db, posts=1200, seed=5, end=END)
    analyze(db)
    db.dispose()
    return url


@pytest.fixture
def empty_pg():  # type: ignore[no-untyped-def]
    """A new, empty PostgreSQL database (no tables at all)."""
    name = f"radpulse_copy_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args))


def frames(url: str) -> dict[str, pd.DataFrame]:
    db = open_database(url)
    ds = Dataset(db)  # no project key: pseudonyms come from the salt stored in the database (copied too)
    try:
        out = {
            "posts": ds.posts().sort_values("post", ignore_index=True),
            "authors": ds.authors().sort_values("author", ignore_index=True),
            "articles": ds.articles().sort_values("id", ignore_index=True),
            "mentions": ds.mentions().sort_values(["post", "article_id"], ignore_index=True),
            "annotations": ds.annotations().sort_values("post", ignore_index=True),
            "daily": ds.daily(by=["platform", "sentiment"]),
            "edges": ds.edges().sort_values(["source", "target", "kind"], ignore_index=True),
            "influence": influence(db, PostFilters(), limit=20).drop(columns=["pagerank"]),
        }
        week = build_digest(db, settings_from_dict(default_config_data(), environ={}), END - dt.timedelta(days=7), END)
        out["digest"] = pd.DataFrame([{"posts": week.posts, "before": week.posts_before, "authors": week.authors,
                                       "platforms": str(week.by_platform), "topics": str(week.topics),
                                       "articles": str([(a["title"], a["mentions"]) for a in week.articles])}])
        return out
    finally:
        db.dispose()


def _schema(url: str) -> list[tuple[str, str]]:
    """Every index and constraint of a PostgreSQL database, by table, with its definition."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(conn.execute(text(
                "SELECT t.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
                "WHERE t.relnamespace = current_schema()::regnamespace AND t.relname <> 'alembic_version' "
                "UNION ALL SELECT c.conrelid::regclass::text, c.conname || ' ' || pg_get_constraintdef(c.oid) "
                "FROM pg_constraint c WHERE c.connamespace = current_schema()::regnamespace")).all())
    finally:
        engine.dispose()


@pytest.fixture
def fresh_pg(empty_pg):  # type: ignore[no-untyped-def]
    """A second empty PostgreSQL database, migrated the ordinary way."""
    url = empty_pg.rsplit("/", 1)[0] + "/" + empty_pg.rsplit("/", 1)[1] + "_fresh"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"'))
    open_database(url).dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def test_copy_gives_identical_query_results_and_working_sequences(demo_url, empty_pg, fresh_pg):
    lite = frames(demo_url)  # before the copy: the pseudonym salt it stores is copied too
    result = run("--database-url", demo_url, "db", "copy", "--to", empty_pg, "--batch-size", "500", "--json")
    assert result.exit_code == 0, result.output
    assert '"table": "posts"' in result.output
    pg = frames(empty_pg)
    assert len(lite["posts"]) > 1000 and len(lite["annotations"]) > 1000 and len(lite["edges"]) > 0
    for name in lite:
        pd.testing.assert_frame_equal(lite[name], pg[name], check_categorical=False, obj=name)
    db = open_database(empty_pg)
    names = inspect(db.engine).get_table_names()
    assert dbcopy.STATE_TABLE not in names and dbcopy.DEFERRED_TABLE not in names  # finished: bookkeeping gone
    schema = _schema(fresh_pg)
    assert len(schema) > 40 and _schema(empty_pg) == schema  # the indexes and foreign keys set aside are back
    with db.engine.begin() as conn:  # sequences continue after the copied ids
        top = conn.execute(select(func.max(Source.id))).scalar_one()
        new = conn.execute(insert(Source).values(name="x:#new", platform="x", kind="hashtag", value="new",
                                                         created_at=dt.datetime.now(dt.UTC))
                           .returning(Source.id)).scalar_one()
    assert new == top + 1
    db.dispose()
    again = run("--database-url", demo_url, "db", "copy", "--to", empty_pg)
    assert again.exit_code == 2 and "not empty" in again.output and "rows)" in again.output


def test_an_interrupted_copy_resumes_without_duplicates(demo_url, empty_pg, monkeypatch, tmp_path):
    lite = frames(demo_url)
    written = []
    real_write = dbcopy._write

    def failing_write(target, table, rows):  # type: ignore[no-untyped-def]
        if table.name == "posts" and len(written) == 2:
            raise ConnectionError("server closed the connection")  # mid-copy, after two post batches
        real_write(target, table, rows)
        if table.name == "posts":
            written.append(len(rows))

    monkeypatch.setattr(dbcopy, "_write", failing_write)
    with pytest.raises(ConnectionError):
        dbcopy.copy_database(demo_url, empty_pg, batch_size=300)
    monkeypatch.setattr(dbcopy, "_write", real_write)
    db = open_database(empty_pg)
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Post)).scalar_one() == 600
    db.dispose()
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    open_database(other_url).dispose()
    other = run("--database-url", other_url, "db", "copy", "--to", empty_pg)
    assert other.exit_code == 2 and "unfinished copy" in other.output  # another source may not finish it
    result = run("--database-url", demo_url, "db", "copy", "--to", empty_pg, "--batch-size", "300", "--json")
    assert result.exit_code == 0, result.output
    counts = [dbcopy.TableCount(**row) for row in json.loads(result.output)]
    posts = next(c for c in counts if c.table == "posts")
    assert posts.copied == posts.source - 600 and posts.target == posts.source
    assert all(c.source == c.target for c in counts)
    db = open_database(empty_pg)
    with db.engine.connect() as conn:
        dupes = conn.execute(select(Post.platform, Post.external_id).group_by(Post.platform, Post.external_id)
                             .having(func.count() > 1)).all()
    db.dispose()
    assert dupes == []
    assert dbcopy.DEFERRED_TABLE not in inspect(create_engine(empty_pg)).get_table_names()
    pg = frames(empty_pg)
    for name in ("posts", "annotations", "edges", "daily"):
        pd.testing.assert_frame_equal(lite[name], pg[name], check_categorical=False, obj=name)


def test_a_copy_interrupted_in_a_table_keyed_by_day_and_text_resumes_after_its_last_row(demo_url, empty_pg,
                                                                                           monkeypatch):
    """Keys are read and compared as the source stores them (SQLite's date text): a resumed copy
    of a composite (day, platform, hashtag) key continues exactly after the last committed row."""
    real_write, written = dbcopy._write, []

    def failing_write(target, table, rows):  # type: ignore[no-untyped-def]
        if table.name == "rollup_hashtag_daily" and written:
            raise ConnectionError("server closed the connection")
        real_write(target, table, rows)
        if table.name == "rollup_hashtag_daily":
            written.append(len(rows))

    monkeypatch.setattr(dbcopy, "_write", failing_write)
    with pytest.raises(ConnectionError):
        dbcopy.copy_database(demo_url, empty_pg, batch_size=40)
    monkeypatch.setattr(dbcopy, "_write", real_write)
    counts = {c.table: c for c in dbcopy.copy_database(demo_url, empty_pg, batch_size=40)}
    tags = counts["rollup_hashtag_daily"]
    assert written == [40] and tags.source > 80
    assert tags.copied == tags.source - 40 and tags.target == tags.source
    assert counts["posts"].copied == 0 and all(c.source == c.target for c in counts.values())
    source, target = open_database(demo_url), open_database(empty_pg)
    query = text("SELECT day, platform, hashtag, posts FROM rollup_hashtag_daily ORDER BY day, platform, hashtag")
    try:
        with source.engine.connect() as a, target.engine.connect() as b:
            lite = [(str(d)[:10], p, h, n) for d, p, h, n in a.execute(query)]
            pg = [(str(d)[:10], p, h, n) for d, p, h, n in b.execute(query)]
    finally:
        source.dispose()
        target.dispose()
    assert lite == pg


def test_copy_refuses_a_target_that_is_not_postgresql(demo_url, tmp_path):
    result = run("--database-url", demo_url, "db", "copy", "--to", f"sqlite:///{tmp_path / 'b.db'}")
    assert result.exit_code == 2 and "PostgreSQL URL" in result.output
    garbled = run("--database-url", demo_url, "db", "copy", "--to", "not a url")
    assert garbled.exit_code == 2 and "PostgreSQL URL, not 'not a url'" in garbled.output
