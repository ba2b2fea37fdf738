"""The weekly digest: content, escaping, held posts, a real SMTP server on loopback, never twice."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner
from digest_helpers import IN_WEEK, MONDAY, XSS, free_port, seed, settings_for
from sqlalchemy import insert, select

from radpulse.analysis.pipeline import ANNOTATOR_NAME
from radpulse.cli.main import cli
from radpulse.db.models import Annotation, SentDigest, Subscriber
from radpulse.db.store import upsert_posts
from radpulse.digest import (
    DeliveryError,
    add_subscriber,
    build_digest,
    last_full_week,
    render,
    send_digests,
    unsubscribe,
    week_of,
)
from radpulse.errors import InputError
from radpulse.records import PostRecord


def test_the_week_is_monday_to_monday():
    assert week_of(dt.date(2026, 11, 22)) == (MONDAY, MONDAY + dt.timedelta(days=7))
    assert last_full_week(dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc)) == (MONDAY, MONDAY + dt.timedelta(days=7))


def test_digest_content_leaves_held_posts_out_and_escapes_posted_text(db):
    seed(db)
    d = build_digest(db, settings_for(25), MONDAY, MONDAY + dt.timedelta(days=7))
    # the flagged X post (900 likes) is held: in no count, list or share
    assert (d.posts, d.posts_before, d.authors, d.change) == (2, 1, 2, "+100%")
    assert d.by_platform == [("Bluesky", 1), ("Mastodon", 1)]  # a tie: by name, on every database
    assert [p["platform"] for p in d.top_posts] == ["Bluesky", "Mastodon"]  # the flagged X post (900 likes) is held
    assert [a["title"] for a in d.articles] == ["Photon-counting CT <in> practice"]
    assert d.articles[0]["url"] == "https://doi.org/10.1148/radiol.2024"
    assert dict(d.topics) == {"neuro": 1, "chest": 1}
    assert d.sentiment == {"positive": 100, "neutral": 0, "negative": 0}
    html_doc, text_doc = render(d, "https://radpulse.example.org/unsubscribe/tok")
    assert "<script>" not in html_doc and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html_doc
    assert "Photon-counting CT &lt;in&gt; practice" in html_doc
    assert "John Doe" not in html_doc and "John Doe" not in text_doc
    assert XSS in text_doc  # plain text is not HTML: shown as written
    chest = build_digest(db, settings_for(25), MONDAY, MONDAY + dt.timedelta(days=7), topics=["chest"])
    assert (chest.posts, [p["platform"] for p in chest.top_posts], len(chest.articles)) == (1, ["Mastodon"], 1)


def test_send_reaches_a_real_smtp_server_once_per_subscriber_and_week(db, smtp):
    inbox, port = smtp
    seed(db)
    settings = settings_for(port)
    alice, _ = add_subscriber(db, "Alice@Example.ORG", name="Alice")
    add_subscriber(db, "chest@example.org", topics=["chest"])
    first = send_digests(db, settings, start=MONDAY)
    assert (sorted(first.sent), first.skipped, first.failed) == (["Alice@example.org", "chest@example.org"], [], {})
    assert sorted(rcpts[0] for _, rcpts in inbox.envelopes) == ["Alice@example.org", "chest@example.org"]
    msg = next(m for m in inbox.messages if m["To"] == "Alice@example.org")
    assert msg["Subject"] == "radpulse weekly: week of 16 Nov 2026" and msg["From"] == "digest@radpulse.example"
    assert msg["List-Unsubscribe"] == f"<https://radpulse.example.org/unsubscribe/{alice.unsubscribe_token}>"
    html_part = msg.get_body(("html",)).get_content()
    text_part = msg.get_body(("plain",)).get_content()
    assert "&lt;script&gt;" in html_part and "<script>" not in html_part and "John Doe" not in html_part
    assert "2 posts (+100% on the week before)" in text_part and "Photon-counting CT <in> practice" in text_part
    chest = next(m for m in inbox.messages if m["To"] == "chest@example.org").get_body(("plain",)).get_content()
    assert "1 posts" in chest and "your subspecialties: chest" in chest and XSS not in chest
    again = send_digests(db, settings, start=MONDAY + dt.timedelta(days=3))  # any day of the same week
    assert (again.sent, sorted(again.skipped)) == ([], ["Alice@example.org", "chest@example.org"])
    assert len(inbox.messages) == 2
    with db.engine.connect() as conn:
        rows = conn.execute(select(SentDigest.status, SentDigest.period_start, SentDigest.message_id)).all()
    assert {(r.status, r.period_start) for r in rows} == {("sent", MONDAY)} and len(rows) == 2
    assert all(r.message_id and r.message_id.endswith("@radpulse.example>") for r in rows)


def test_an_unreachable_smtp_server_sends_nothing_records_nothing_and_a_rerun_sends(db, smtp):
    inbox, port = smtp
    seed(db)
    add_subscriber(db, "a@example.org")
    with pytest.raises(DeliveryError, match=r"could not reach the SMTP server 127\.0\.0\.1:\d+ \(the connection was refused\)"):
        send_digests(db, settings_for(free_port()), start=MONDAY)
    with db.engine.connect() as conn:
        assert conn.execute(select(SentDigest)).first() is None
    assert send_digests(db, settings_for(port), start=MONDAY).sent == ["a@example.org"]
    assert len(inbox.messages) == 1


def test_unsubscribe_link_deactivates_and_the_next_send_skips_them(db, smtp):
    from radpulse.dashboards.app import create_app

    inbox, port = smtp
    seed(db)
    a, _ = add_subscriber(db, "a@example.org")
    add_subscriber(db, "b@example.org")
    client = create_app(db).server.test_client()
    assert client.post(f"/unsubscribe/{a.unsubscribe_token}").status_code == 200
    assert client.post("/unsubscribe/not-a-token").status_code == 404
    assert unsubscribe(db, "not-a-token") is None
    assert send_digests(db, settings_for(port), start=MONDAY).sent == ["b@example.org"]
    readded, created = add_subscriber(db, "a@example.org")
    assert not created and readded.active


def test_subscriber_input_is_checked(db):
    with pytest.raises(InputError, match="not an email address"):
        add_subscriber(db, "not an address")
    with pytest.raises(InputError, match="unknown subspecialty cardio-thoracic"):
        add_subscriber(db, "a@example.org", topics=["cardio-thoracic"])
    with db.engine.connect() as conn:
        assert conn.execute(select(Subscriber)).first() is None


def test_cli_subscribers_and_digest(tmp_path, smtp):
    inbox, port = smtp
    cfg = tmp_path / "radpulse.toml"
    url = f"sqlite:///{tmp_path / 'r.db'}"
    cfg.write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {port}\n[digest]\nbase_url = "https://r.example"\n')
    base = ["--config", str(cfg), "--database-url", url]

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, [*base, *args], catch_exceptions=False)

    from radpulse.db.engine import open_database

    db = open_database(url)
    seed(db)
    db.dispose()
    assert run("subscribers", "add", "a@example.org", "--topic", "neuro").output == "Added a@example.org (topics: neuro).\n"
    bad = run("subscribers", "add", "nope")
    assert bad.exit_code == 2 and "not an email address" in bad.output
    listed = json.loads(run("subscribers", "list", "--json").output)
    assert [(s["email"], s["topics"], s["active"]) for s in listed] == [("a@example.org", ["neuro"], True)]
    dry = json.loads(run("digest", "send", "--week", "2026-11-18", "--dry-run", "--json").output)
    assert dry["sent"] == ["a@example.org"] and dry["dry_run"] and inbox.messages == []
    sent = run("digest", "send", "--week", "2026-11-18")
    assert sent.exit_code == 0 and "sent to 1, already sent 0, failed 0" in sent.output and len(inbox.messages) == 1
    out = tmp_path / "digest.html"
    preview = run("digest", "preview", "--week", "2026-11-18", "--out", str(out))
    assert preview.exit_code == 0 and "&lt;script&gt;" in out.read_text()
    assert "MOST DISCUSSED PAPERS" in run("digest", "preview", "--week", "2026-11-18").output
    assert run("digest", "send", "--week", "x").exit_code == 2
    assert run("subscribers", "remove", "a@example.org").output == "Removed a@example.org.\n"
    assert run("subscribers", "remove", "a@example.org").exit_code == 2


def test_emerging_terms_count_accounts_and_leave_held_posts_out(db):
    seed(db)
    fresh = [PostRecord("x", f"z{i}", f"Trying zebrafishography protocols today #NewTech {i}", IN_WEEK,
                        author_external_id=f"z{i}") for i in range(3)]
    held = [PostRecord("x", f"h{i}", f"patient Smithsonian {i}", IN_WEEK, author_external_id=f"h{i}") for i in range(3)]
    with db.engine.begin() as conn:
        ids = upsert_posts(conn, fresh + held).ids
        conn.execute(insert(Annotation), [
            {"post_id": ids[("x", f"h{i}")], "model_name": ANNOTATOR_NAME, "model_version": "1", "flags": ["privacy_risk"],
             "subspecialties": [], "themes": [], "annotated_at": IN_WEEK} for i in range(3)])
    d = build_digest(db, settings_for(25), MONDAY, MONDAY + dt.timedelta(days=7))
    terms = {t["term"]: t for t in d.emerging}
    assert terms["zebrafishography"] == {"term": "zebrafishography", "authors": 3, "new": True}
    assert terms["#newtech"]["authors"] == 3
    assert not any("smithsonian" in t for t in terms)
    html_doc, text_doc = render(d)
    assert "zebrafishography (3 accounts, new)" in text_doc and "Emerging terms" in html_doc
