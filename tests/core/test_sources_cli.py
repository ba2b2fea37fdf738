"""`radpulse sources add/remove` as a user meets it: feeds from one host, one Mastodon
(instance, tag) at a time, refused feed schemes and settings, tables at 80 and 160 columns."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import event

from radpulse.cli.main import cli
from radpulse.collectors.feeds.source import name_from_url
from radpulse.config import default_config_data, load_settings, settings_from_dict
from radpulse.db.engine import open_database
from radpulse.errors import ConfigError
from radpulse.status import status_report

RSNA = "https://pubs.rsna.org/action/showFeed?type=etoc&feed=rss&jc={}"
CHANNEL = """<?xml version="1.0"?><rss version="2.0"><channel><title>{}</title>
<link>https://example.org</link><description>d</description></channel></rss>"""


def run(*args: str, env: dict | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def base(tmp_path):  # type: ignore[no-untyped-def]
    cfg, db = tmp_path / "radpulse.toml", f"sqlite:///{tmp_path / 'r.db'}"
    assert run("--config", str(cfg), "--database-url", db, "init").exit_code == 0
    return ("--config", str(cfg), "--database-url", db)


def names(base) -> set[str]:  # type: ignore[no-untyped-def]
    return {s["name"] for s in json.loads(run(*base, "sources", "list", "--json").output)}


def test_two_feeds_on_one_host_are_both_tracked(base, monkeypatch):
    # offline: the title cannot be read, so the names come from the URLs
    monkeypatch.setattr("radpulse.collectors.feeds.source.read_feed_title", lambda url: None)
    first = run(*base, "sources", "add", "feed", RSNA.format("ryct"))
    second = run(*base, "sources", "add", "feed", RSNA.format("rycan"))
    assert first.exit_code == second.exit_code == 0 and "Already tracked" not in second.output
    tracked = names(base)
    assert {"feed:pubs.rsna.org?jc=ryct", "feed:pubs.rsna.org?jc=rycan"} <= tracked
    again = run(*base, "sources", "add", "feed", RSNA.format("rycan"))
    assert "Already tracked" in again.output and names(base) == tracked
    taken = run(*base, "sources", "add", "feed", RSNA.format("ryai2"), "--name", "Radiology")
    assert taken.exit_code == 2 and "already used by" in taken.output


def test_a_feed_is_named_after_its_channel_title(base, httpserver):
    httpserver.expect_request("/a.rss").respond_with_data(CHANNEL.format("Radiology: Cardiothoracic Imaging"),
                                                          content_type="application/rss+xml")
    httpserver.expect_request("/b.rss").respond_with_data(CHANNEL.format("Radiology: Imaging Cancer"),
                                                          content_type="application/rss+xml")
    for path in ("/a.rss", "/b.rss"):
        assert run(*base, "sources", "add", "feed", httpserver.url_for(path)).exit_code == 0
    assert {"feed:Radiology: Cardiothoracic Imaging", "feed:Radiology: Imaging Cancer"} <= names(base)


def test_names_from_urls_distinguish_the_query():
    taken = {"Radiology": RSNA.format("radiology")}
    assert name_from_url(RSNA.format("ryct"), taken) == "pubs.rsna.org?jc=ryct"
    assert name_from_url("https://www.jacr.org/current.rss", {}) == "jacr.org"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/feed.xml", "javascript:alert(1)"])
def test_non_web_feed_urls_are_refused(base, url):
    result = run(*base, "sources", "add", "feed", url)
    assert result.exit_code == 2 and "http:// or https://" in result.output


@pytest.mark.parametrize(("section", "value", "key"), [
    ("smtp", {"timeout_seconds": float("inf")}, "smtp.timeout_seconds"),
    ("bluesky", {"service_url": "http://bsky.social"}, "bluesky.service_url"),
    ("feeds", [{"name": "local", "url": "file:///tmp/x.xml"}], "feeds[0].url"),
])
def test_unsafe_settings_are_refused_naming_the_key(section, value, key):
    data = default_config_data()
    data[section] = {**data[section], **value} if isinstance(value, dict) else value
    with pytest.raises(ConfigError) as err:
        settings_from_dict(data, environ={})
    assert key in err.value.message


def test_one_mastodon_instance_and_tag_is_added_and_removed(base):
    before = {n for n in names(base) if n.startswith("mastodon:")}
    assert run(*base, "sources", "add", "mastodon", "RSNA2026", "--instance", "fediscience.org").exit_code == 0
    after = {n for n in names(base) if n.startswith("mastodon:")}
    assert after - before == {"mastodon:fediscience.org#RSNA2026"} and before <= after
    assert run(*base, "sources", "remove", "mastodon:med-mastodon.com#radres").exit_code == 0
    left = {n for n in names(base) if n.startswith("mastodon:")}
    assert after - left == {"mastodon:med-mastodon.com#radres"}
    assert "mastodon:mastodon.social#radres" in left


def test_old_mastodon_shape_loads_and_is_rewritten_on_edit(tmp_path):
    cfg = tmp_path / "old.toml"
    cfg.write_text('[mastodon]\ninstances = ["a.example", "b.example"]\nhashtags = ["radiology", "#radres"]\n')
    assert sorted(load_settings(cfg, environ={}).mastodon.pairs()) == [
        ("a.example", "radiology"), ("a.example", "radres"), ("b.example", "radiology"), ("b.example", "radres")]
    base = ("--config", str(cfg), "--database-url", f"sqlite:///{tmp_path / 'r.db'}")
    assert run(*base, "sources", "remove", "mastodon:b.example#radres").exit_code == 0
    assert sorted(load_settings(cfg, environ={}).mastodon.pairs()) == [
        ("a.example", "radiology"), ("a.example", "radres"), ("b.example", "radiology")]
    assert "[[mastodon.timelines]]" in cfg.read_text()


def test_status_only_reads(base, tmp_path):
    settings = load_settings(base[1], environ={})
    db = open_database(base[3])
    writes: list[str] = []
    event.listen(db.engine, "before_cursor_execute",
                 lambda conn, cursor, sql, *a: writes.append(sql) if not sql.lstrip().upper().startswith(
                     ("SELECT", "PRAGMA", "WITH")) else None)
    report = status_report(db, settings)
    assert report["sources"] and not writes
    assert run(*base, "status").exit_code == 0


def _cells(output: str) -> list[list[str]]:
    return [[c.strip() for c in line.split("│")[1:-1]] for line in output.splitlines() if line.startswith("│")]


def _no_broken_words(output: str, values: set[str]) -> None:
    """Every cell is a whole value or a value's prefix cut with an ellipsis, one line per row."""
    for row in _cells(output):
        for cell in row:
            if cell:
                assert cell in values or (cell.endswith("…") and any(v.startswith(cell[:-1]) for v in values)), cell


@pytest.mark.parametrize("columns", ["80", "160"])
def test_sources_list_and_collect_fit_the_terminal(base, columns, monkeypatch):
    from radpulse.collectors import registry
    from tests.core.test_runner import FakeCollector

    class XLike(FakeCollector):
        platform = "x"

    registry._load()
    monkeypatch.setitem(registry._REGISTRY, "x", XLike)
    env = {"COLUMNS": columns}
    listed = json.loads(run(*base, "sources", "list", "--json").output)
    human = run(*base, "sources", "list", env=env).output
    assert max(len(line) for line in human.splitlines()) <= int(columns)
    assert len(_cells(human)) == len(listed)  # one line per source
    values = {str(v) for r in listed for v in r.values()} | {"name", "posts", "last run", "status", "kind", "value"}
    _no_broken_words(human, values)
    collected = run(*base, "collect", "--platform", "x", env=env)
    assert collected.exit_code == 0, collected.output
    assert not re.search(r"page=|etag|sha256|last_modified", collected.stdout)
    assert max(len(line) for line in collected.stdout.splitlines()) <= int(columns)
    rows = json.loads(run(*base, "collect", "--platform", "x", "--json").stdout)
    values = {str(v) for r in rows for v in r.values()} | {"source", "status", "fetched", "new", "updated", "errors"}
    _no_broken_words(collected.stdout, values)
    assert len(_cells(collected.stdout)) == len(rows)
