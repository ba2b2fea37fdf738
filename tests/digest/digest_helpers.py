"""Shared by the digest tests: a week of posts, settings for a loopback SMTP server, an inbox."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket

from sqlalchemy import insert

from radpulse.analysis.pipeline import ANNOTATOR_NAME
from radpulse.config import default_config_data, settings_from_dict
from radpulse.db.models import Annotation, Mention
from radpulse.db.store import upsert_articles, upsert_posts
from radpulse.records import ArticleRecord, PostRecord

MONDAY = dt.date(2026, 11, 16)
IN_WEEK = dt.datetime(2026, 11, 18, 12, tzinfo=dt.timezone.utc)
WEEK_BEFORE = dt.datetime(2026, 11, 11, 12, tzinfo=dt.timezone.utc)
XSS = '<script>alert("x")</script> & <b>bold</b>'


class Inbox:
    """aiosmtpd handler keeping every message received."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.raw: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.raw.append(envelope.original_content or envelope.content)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_for(port: int, **digest):  # type: ignore[no-untyped-def]
    data = default_config_data()
    data["smtp"].update(host="127.0.0.1", port=port, from_address="digest@radpulse.example", timeout_seconds=5)
    data["digest"].update({"base_url": "https://radpulse.example.org", "top_n": 5, **digest})
    return settings_from_dict(data, environ={})


def seed(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A week of posts: a popular one with markup, a flagged one, one citing a paper, one the week before."""
    posts = [
        PostRecord("bluesky", "at://a/1", XSS + " #radiology", IN_WEEK, author_external_id="did:a", like_count=50,
                   url="https://bsky.app/profile/a/post/1"),
        PostRecord("x", "2", "Patient John Doe MRN 123 scan today", IN_WEEK, author_external_id="u2", like_count=900),
        PostRecord("mastodon", "https://m/3", "Great paper doi:10.1148/radiol.2024 on CT", IN_WEEK,
                   author_external_id="https://m/@c", like_count=5, community="med-mastodon.com"),
        PostRecord("x", "4", "last week's chat", WEEK_BEFORE, author_external_id="u4", like_count=1000),
    ]
    with db.engine.begin() as conn:
        ids = upsert_posts(conn, posts).ids
        art = upsert_articles(conn, [ArticleRecord(doi="10.1148/radiol.2024", title="Photon-counting CT <in> practice",
                                                   journal="Radiology")]).ids["doi:10.1148/radiol.2024"]
        conn.execute(insert(Mention), [{"post_id": ids[("mastodon", "https://m/3")], "article_id": art, "kind": "doi",
                                        "matched": "doi:10.1148/radiol.2024", "created_at": IN_WEEK}])
        conn.execute(insert(Annotation), [
            {"post_id": ids[key], "model_name": ANNOTATOR_NAME, "model_version": "1", "flags": flags,
             "subspecialty": sub, "subspecialties": [sub], "themes": [], "sentiment": sentiment, "annotated_at": IN_WEEK}
            for key, flags, sub, sentiment in [
                (("bluesky", "at://a/1"), [], "neuro", "positive"),
                (("x", "2"), ["privacy_risk"], "neuro", "negative"),
                (("mastodon", "https://m/3"), [], "chest", "positive"),
            ]
        ])
    return {f"{k[0]}:{k[1]}": v for k, v in ids.items()}
