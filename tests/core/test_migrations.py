"""Alembic migrations apply to empty SQLite and PostgreSQL, round-trip, and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from radpulse.db.engine import current_revision, downgrade, head_revision, open_database, upgrade
from radpulse.db.models import Base

TABLES = {"sources", "source_cursors", "posts", "authors", "post_sources", "articles", "mentions", "annotations",
          "review_decisions", "collection_runs", "quarantine", "api_usage", "subscribers", "sent_digests",
          "rollup_daily", "rollup_author_daily", "rollup_hashtag_daily", "rollup_hashtag_author_daily", "rollup_article_daily",
          "rollup_stale_days", "meta"}


def test_upgrade_downgrade_round_trip(db):
    assert current_revision(db.engine) == head_revision()
    assert TABLES <= set(inspect(db.engine).get_table_names())
    downgrade(db.engine, "base")
    assert current_revision(db.engine) is None
    assert not TABLES & set(inspect(db.engine).get_table_names())
    upgrade(db.engine)
    assert current_revision(db.engine) == head_revision()
    assert TABLES <= set(inspect(db.engine).get_table_names())


#: expression indexes: Alembic compares them as text, which PostgreSQL rewrites (casts, parentheses,
#: line breaks) and SQLite cannot reflect; they are checked by name and use below instead
EXPRESSION_INDEXES = {"ix_posts_engagement"}


def _compared(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


def test_migrations_match_the_models(db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False, "include_object": _compared})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_the_engagement_index_exists_and_serves_the_engagement_order(db):
    from radpulse.db.models import Post
    from radpulse.db.queries import PostFilters, engagement, public_where

    assert EXPRESSION_INDEXES <= {ix["name"] for ix in inspect(db.engine).get_indexes("posts")} | (
        {r[0] for r in db.engine.connect().exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")}
        if db.dialect == "sqlite" else set())
    p = Post.__table__.c
    query = select(p.id).where(public_where(PostFilters(), p)).order_by(engagement(p).desc(), p.id).limit(5)
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off; SET enable_sort = off")
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        plan = " ".join(str(r) for r in conn.exec_driver_sql("EXPLAIN " + ("QUERY PLAN " if db.dialect == "sqlite" else "") + sql))
    assert "ix_posts_engagement" in plan  # the query's expression matches the index's


def test_sqlite_is_wal_with_foreign_keys(sqlite_db):
    with sqlite_db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_every_open_upgrades_an_old_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db = open_database(url, migrate=False)
    assert current_revision(db.engine) is None
    db.dispose()
    db = open_database(url)
    assert current_revision(db.engine) == head_revision()


def test_a_database_at_the_first_revision_is_upgraded_on_open_with_its_data(db_url):
    from sqlalchemy import text

    db = open_database(db_url, migrate=False)
    upgrade(db.engine, "0001")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO articles (key, url, authors, mesh_terms, sources, synthetic, first_seen_at, updated_at) "
                          "VALUES ('url:https://jacr.org/a', 'https://jacr.org/a', '[]', '[]', '[]', false, "
                          "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    db.dispose()
    db = open_database(db_url)
    assert current_revision(db.engine) == head_revision() != "0001"
    assert "ix_articles_url" in {ix["name"] for ix in inspect(db.engine).get_indexes("articles")}
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT url FROM articles")).scalar() == "https://jacr.org/a"


def test_raw_payloads_are_json_kept_as_sent_and_lz4_compressed_on_postgresql(db):
    """Migration 0003: on PostgreSQL raw payloads are `json` (the text as sent), TOASTed with lz4
    where the server has it; downgrading restores jsonb. SQLite keeps JSON text as it was."""
    import datetime as dt

    from sqlalchemy import text

    from radpulse.db.models import Post
    from radpulse.db.store import upsert_posts
    from radpulse.records import PostRecord

    sent = b'{"id": "1",  "z": 1, "a": [1, 2], "z": 2}'  # spacing, key order, a duplicate key
    with db.engine.begin() as conn:
        upsert_posts(conn, [PostRecord("x", "1", "t", dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), raw=sent)])
    with db.engine.connect() as conn:
        stored = conn.execute(text("SELECT CAST(raw AS TEXT) FROM posts")).scalar()
    assert stored == sent.decode()  # byte for byte, on both databases
    if db.dialect != "postgresql":
        return
    query = text("SELECT c.relname, format_type(a.atttypid, a.atttypmod), a.attcompression FROM pg_attribute a "
                 "JOIN pg_class c ON c.oid = a.attrelid WHERE a.attname = 'raw' "
                 "AND c.relname IN ('posts', 'authors', 'articles', 'quarantine')")
    with db.engine.connect() as conn:
        lz4 = conn.execute(text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                                "WHERE name = 'default_toast_compression'")).scalar()
        found = {name: (kind, method) for name, kind, method in conn.execute(query)}
    assert found == dict.fromkeys(("posts", "authors", "articles", "quarantine"), ("json", "l" if lz4 else ""))
    downgrade(db.engine, "0002")
    with db.engine.connect() as conn:
        assert {v[0] for v in ({n: (k, m) for n, k, m in conn.execute(query)}).values()} == {"jsonb"}
        assert conn.execute(select(Post.raw)).scalar() == {"id": "1", "a": [1, 2], "z": 2}
    upgrade(db.engine)
