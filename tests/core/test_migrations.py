"""Alembic migrations apply to empty SQLite and PostgreSQL, round-trip, and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from radpulse.db.engine import current_revision, downgrade, head_revision, open_database, upgrade
from radpulse.db.models import Base

TABLES = {"sources", "source_cursors", "posts", "authors", "post_sources", "articles", "mentions", "annotations",
          "review_decisions", "collection_runs", "quarantine", "api_usage", "subscribers", "sent_digests",
          "daily_rollups", "meta"}


def test_upgrade_downgrade_round_trip(db):
    assert current_revision(db.engine) == head_revision()
    assert TABLES <= set(inspect(db.engine).get_table_names())
    downgrade(db.engine, "base")
    assert current_revision(db.engine) is None
    assert not TABLES & set(inspect(db.engine).get_table_names())
    upgrade(db.engine)
    assert current_revision(db.engine) == head_revision()
    assert TABLES <= set(inspect(db.engine).get_table_names())


def test_migrations_match_the_models(db):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == []


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


def test_raw_payloads_are_lz4_compressed_on_postgresql(db):
    """Migration 0003: PostgreSQL TOASTs raw payloads with lz4 (where the server has it); SQLite unchanged."""
    from sqlalchemy import text

    if db.dialect != "postgresql":
        assert current_revision(db.engine) == head_revision() == "0003"
        return
    query = text("SELECT attrelid::regclass::text, attcompression FROM pg_attribute "
                 "WHERE attname = 'raw' AND attrelid::regclass::text IN ('posts', 'authors', 'articles')")
    with db.engine.connect() as conn:
        lz4 = conn.execute(text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                                "WHERE name = 'default_toast_compression'")).scalar()
        found = dict(conn.execute(query).all())
    assert found == dict.fromkeys(("posts", "authors", "articles"), "l" if lz4 else "")
    downgrade(db.engine, "0002")
    with db.engine.connect() as conn:
        assert set(dict(conn.execute(query).all()).values()) == {""}  # back to the server's default
    upgrade(db.engine)
