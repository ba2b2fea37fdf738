"""The edge table's migration fills it from the posts already stored; `db rebuild-edges` and the
demo give a non-trivial network."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import func, select, text

from radpulse.cli.main import cli
from radpulse.db.engine import current_revision, downgrade, head_revision, open_database, upgrade
from radpulse.db.models import Interaction
from radpulse.db.queries import network
from radpulse.db.queries.filters import PostFilters


def test_upgrade_fills_the_edges_of_stored_posts(db_url):
    db = open_database(db_url, migrate=False)
    upgrade(db.engine, "0004l")
    downgrade(db.engine, "0004l")  # the PostgreSQL fixture's database is at head already
    with db.engine.begin() as conn:
        for ext, author, reply, mentions in (("1", "a", None, '["Bee"]'), ("2", "b", "1", "[]")):
            conn.execute(text(
                "INSERT INTO posts (platform, external_id, author_external_id, created_at, in_reply_to_id, links,"
                " hashtags, mentions, has_media, is_deleted, synthetic, first_seen_at, collected_at, text_changed_at)"
                " VALUES ('x', :ext, :author, CURRENT_TIMESTAMP, :reply, '[]', '[]', :mentions, false, false, false,"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"ext": ext, "author": author, "reply": reply, "mentions": mentions})
        conn.execute(text("INSERT INTO authors (platform, external_id, handle, synthetic, first_seen_at, updated_at)"
                          " VALUES ('x', 'b', 'bee', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    db.dispose()
    db = open_database(db_url)
    assert current_revision(db.engine) == head_revision()
    got = set(network.edges(db, PostFilters())[["source", "target", "kind"]].itertuples(index=False, name=None))
    assert got == {("x:a", "x:b", "mention"), ("x:b", "x:a", "reply")}
    db.dispose()


def test_demo_network_is_non_trivial_and_rebuild_edges_reproduces_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    runner = CliRunner()
    result = runner.invoke(cli, ["--database-url", url, "demo", "--posts", "3000", "--no-serve", "--no-analyze"])
    assert result.exit_code == 0, result.output
    db = open_database(url)
    frame = network.edges(db, PostFilters())
    assert set(frame["kind"]) == {"reply", "quote", "repost", "mention"}
    top = network.influence(db, PostFilters(), limit=10)
    assert top["interactions_in"].iloc[0] > 5 and top["handle"].notna().all()
    with db.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(Interaction)).scalar_one()
    result = runner.invoke(cli, ["--database-url", url, "db", "rebuild-edges", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output[result.output.index("{"):]) == {"edges": before}
    assert network.edges(db, PostFilters()).equals(frame)
    db.dispose()
