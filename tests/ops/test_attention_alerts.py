"""A paper's attention jump is a spike subject: one alert, none on a second run the same day;
a paper cited as often as usual, and held or deleted posts, raise nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from radpulse.alerts.attention_jumps import find_attention_jumps
from radpulse.alerts.delivery import send_alerts
from radpulse.records import ArticleRecord, PostRecord, utcnow
from radpulse.db.models import Mention, Post
from radpulse.db.store import upsert_articles, upsert_posts
from radpulse.digest import add_subscriber
from tests.digest.digest_helpers import settings_for

DAY = dt.date(2026, 11, 20)
JUMPING = ArticleRecord(doi="10.1148/radiol.2026.1", title="Photon-counting CT in daily practice")
STEADY = ArticleRecord(doi="10.1148/radiol.2026.2", title="A steadily cited review")


def _seed(db) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    posts, cites = [], []  # cites: (external id, article doi)
    for back in range(0, 29):
        when = dt.datetime.combine(DAY - dt.timedelta(days=back), dt.time(12), dt.timezone.utc)
        n_jump = 8 if back == 0 else 1  # one reader a day, then eight on the day
        for k in range(n_jump):
            posts.append(PostRecord("x", f"j-{back}-{k}", f"photon-counting CT paper {k}", when,
                                    author_external_id=f"reader{k}", url=f"https://x.com/i/status/{back}{k}"))
            cites.append((f"j-{back}-{k}", JUMPING.doi))
        for k in range(6):  # six readers every day, the day included: no jump
            posts.append(PostRecord("x", f"s-{back}-{k}", "review", when, author_external_id=f"fan{k}"))
            cites.append((f"s-{back}-{k}", STEADY.doi))
    # a deleted post citing the jumping paper on the day: not public, not counted
    posts.append(PostRecord("x", "gone", "deleted", dt.datetime.combine(DAY, dt.time(13), dt.timezone.utc),
                            author_external_id="ghost"))
    cites.append(("gone", JUMPING.doi))
    with db.engine.begin() as conn:
        ids = upsert_posts(conn, posts).ids
        arts = upsert_articles(conn, [JUMPING, STEADY]).ids
        art_id = {JUMPING.doi: arts[next(k for k in arts if JUMPING.doi in str(k))],
                  STEADY.doi: arts[next(k for k in arts if STEADY.doi in str(k))]}
        conn.execute(Mention.__table__.insert(), [
            {"post_id": ids[("x", ext)], "article_id": art_id[doi], "kind": "doi", "matched": doi, "created_at": utcnow()}
            for ext, doi in cites])
        conn.execute(update(Post).where(Post.external_id == "gone").values(is_deleted=True))
    return art_id[JUMPING.doi], art_id[STEADY.doi]


def test_an_attention_jump_sends_one_alert_and_a_second_run_the_same_day_none(db, smtp_server):
    inbox, port = smtp_server()
    jumping, _ = _seed(db)
    settings = settings_for(port)
    add_subscriber(db, "fan@example.org", alerts=True, topics=["neuro"])  # papers go to everyone who opted in
    add_subscriber(db, "digest-only@example.org")
    [jump] = find_attention_jumps(db, settings, DAY)
    assert jump.subject == f"paper:{jumping}" and jump.count == 8  # the deleted post left out
    assert jump.median == 1.0 and jump.score > 7 and jump.z >= settings.alerts.threshold
    first = send_alerts(db, settings, day=DAY)
    assert first.sent == [("fan@example.org", f"paper:{jumping}")]
    [msg] = inbox.messages
    assert msg["To"] == "fan@example.org"
    assert "Photon-counting CT in daily practice" in msg["Subject"] and "attention" in msg["Subject"]
    body = msg.get_content()
    assert "from 8 public posts" in body and "doi:10.1148/radiol.2026.1" in body and "photon-counting CT paper" in body
    second = send_alerts(db, settings, day=DAY)
    assert second.sent == [] and second.skipped == [("fan@example.org", f"paper:{jumping}")]
    assert len(inbox.messages) == 1
    # the next day the jump is over (nobody cited it): nothing
    assert find_attention_jumps(db, settings, DAY + dt.timedelta(days=1)) == []
