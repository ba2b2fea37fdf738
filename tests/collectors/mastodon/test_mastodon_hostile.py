"""Hostile Mastodon statuses (issue 12): javascript: URLs stay inert in every output, NUL and other
control characters never block a source, on SQLite and the real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import mastodon_replay as mr
import pytest
import responses
from click.testing import CliRunner
from mastodon_replay import make_settings
from sqlalchemy import select

from radpulse.cli.main import cli
from radpulse.collectors.mastodon import MastodonCollector
from radpulse.collectors.runner import load_cursor, run_source
from radpulse.db.models import Author, Post
from radpulse.digest import build_digest, render
from radpulse.sources import sync_sources

OFF = {"enabled": False}
TAG = "radiology"
HOST = "med-mastodon.com"
JS = "javascript:alert(document.cookie)"
WEEK = (dt.date(2026, 7, 27), dt.date(2026, 8, 3))  # the statuses are from Saturday 2026-08-01


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def collect(db, rsps, fixtures_dir, statuses):
    mr.serve_instance(rsps, fixtures_dir, f"https://{HOST}")
    mr.TagServer(statuses, f"https://{HOST}", TAG).install(rsps)
    settings = make_settings({"mastodon": {"instances": [HOST], "hashtags": [TAG], "timelines": []}, "x": OFF, "reddit": OFF,
                              "bluesky": OFF, "pubmed": OFF, "crossref": OFF, "feeds": []})
    (spec,) = sync_sources(db, settings)
    return settings, spec, run_source(db, MastodonCollector(settings), spec)


def test_a_javascript_url_is_text_in_the_database_the_digest_and_exports(db, db_url, fixtures_dir, rsps, tmp_path):
    statuses = mr.make_statuses(mr.recorded_status(fixtures_dir), 2)
    evil = statuses[1]
    evil["url"] = JS
    evil["uri"] = "javascript:alert(2)//statuses/1"  # not a link either: only the post's key
    evil["content"] = (f'<p>Read <a href="{JS}">this CT protocol</a> and '
                       '<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">that</a> '
                       '<a href="https://pubs.rsna.org/doi/10.1148/radiol.1">paper</a></p>')
    evil["card"] = {"url": "vbscript:msgbox(1)", "title": "card"}
    evil["favourites_count"] = 99
    evil["account"] = {**evil["account"], "url": "javascript:alert(3)"}
    settings, spec, summary = collect(db, rsps, fixtures_dir, statuses)
    assert (summary.status, summary.new) == ("success", 2)

    with db.engine.connect() as conn:
        post = conn.execute(select(Post).where(Post.like_count == 99)).one()
        author_urls = conn.execute(select(Author.url)).scalars().all()
    assert post.external_id.startswith("javascript:")  # the key is kept: it is never shown as a link
    assert post.url is None
    assert post.links == ["https://pubs.rsna.org/doi/10.1148/radiol.1"]
    assert post.text == "Read this CT protocol and that paper"
    assert "javascript:" not in json.dumps([u for u in author_urls if u])

    digest = build_digest(db, settings, *WEEK)
    assert any(p["text"] == post.text for p in digest.top_posts)
    html_doc, text_doc = render(digest, "https://radpulse.example.org/unsubscribe/t")
    for doc in (html_doc, text_doc):
        assert "Read this CT protocol" in doc
        for scheme in ("javascript:", "data:", "vbscript:"):
            assert scheme not in doc

    out = tmp_path / "posts.jsonl"
    result = CliRunner().invoke(cli, ["--database-url", db_url, "export", "posts", "--format", "jsonl",
                                      "--identified", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    row = next(r for r in rows if r["text"] == post.text)
    assert row["url"] is None and row["links"] == ["https://pubs.rsna.org/doi/10.1148/radiol.1"]
    assert "javascript:alert(document" not in out.read_text()


def test_a_url_stored_before_the_rule_is_still_not_a_link_in_the_digest_or_exports(db, fixtures_dir, rsps):
    statuses = mr.make_statuses(mr.recorded_status(fixtures_dir), 1)
    settings, _, summary = collect(db, rsps, fixtures_dir, statuses)
    with db.engine.begin() as conn:  # as an older radpulse (or another tool) would have stored it
        conn.execute(Post.__table__.update().values(url=JS, links=[JS, "data:text/html,x"]))
    html_doc, text_doc = render(build_digest(db, settings, *WEEK))
    assert "Status 0 about" in html_doc and "Status 0 about" in text_doc
    assert "javascript:" not in html_doc + text_doc
    from radpulse.api import posts_frame

    frame = posts_frame(db, deidentify=False)  # the identified export keeps URLs: still only http(s)
    assert frame["url"].isna().all() and len(frame) == 1 and frame["links"].tolist() == [[]]


def test_nul_and_control_characters_are_stripped_and_the_cursor_advances(db, fixtures_dir, rsps):
    statuses = mr.make_statuses(mr.recorded_status(fixtures_dir), 3)
    bad = statuses[1]
    bad["content"] = "<p>before\x00after \x1b]0;owned\x07 tab\there\r\nline\x85 C1 \x9b31m</p>"
    bad["spoiler_text"] = "cw\x00"
    bad["language"] = "en\x00"
    bad["tags"] = [{"name": "rad\x00iology", "url": "https://x/tags/r"}]
    account = {**bad["account"], "display_name": "Dr\x00 \x1b[31mRed", "note": "<p>bio\x00</p>"}
    for status in statuses:  # one poster
        status["account"] = account
    _, spec, summary = collect(db, rsps, fixtures_dir, statuses)
    assert (summary.status, summary.new, summary.failed) == ("success", 3, 0)
    assert load_cursor(db, spec.id) == {"min_id": statuses[-1]["id"]}
    with db.engine.connect() as conn:
        post = conn.execute(select(Post).where(Post.external_id == bad["uri"])).one()
        author = conn.execute(select(Author)).one()
    # whole escape sequences go (OSC title, C1 CSI); the HTML makes the tab a space
    assert post.text == "beforeafter  tab here\nline C1 "
    assert (post.title, post.language, post.hashtags) == ("cw", "en", ["radiology"])
    assert (author.display_name, author.bio) == ("Dr Red", "bio")
    assert b"\\u0000" in json.dumps(post.raw).encode()  # the payload is kept as the instance sent it
