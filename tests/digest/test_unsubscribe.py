"""Unsubscribing: a GET (a mail scanner's prefetch) only asks; a POST or RFC 8058 one-click unsubscribes (12.10).

The mail goes through a real SMTP server on loopback; the received bytes are parsed to check
that `List-Unsubscribe` is a plain `<https://...>` (never RFC 2047-encoded, even when long) and
that `List-Unsubscribe-Post` announces one-click.
"""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from digest_helpers import MONDAY, seed, settings_for
from sqlalchemy import select

from radpulse.db.models import Subscriber
from radpulse.digest import add_subscriber, send_digests
from radpulse.errors import ConfigError

LONG_BASE = "https://radpulse.society-of-thoracic-and-cardiovascular-imaging.example.org/dashboards/weekly"


def active(db, address: str) -> bool:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return bool(conn.execute(select(Subscriber.active).where(Subscriber.email == address)).scalar())


def received_unsubscribe_path(raw: bytes) -> str:
    """The path of the List-Unsubscribe URL, read from the raw header line."""
    line = re.search(rb"^List-Unsubscribe: (.*?)\r?\n(?![ \t])", raw, re.M | re.S)
    assert line, raw[:500]
    value = line.group(1).decode("ascii")
    assert "=?" not in value and "\n" not in value, value  # never RFC 2047-encoded, never folded
    match = re.fullmatch(r"<(https://[^<> ]+)>", value)
    assert match, value
    return match.group(1).removeprefix(LONG_BASE)


def test_headers_of_the_received_mail(db, smtp):
    inbox, port = smtp
    seed(db)
    sub, _ = add_subscriber(db, "Reader@Example.org")
    result = send_digests(db, settings_for(port, base_url=LONG_BASE, title="Weekly\r\nBcc: x@y.z"), start=MONDAY)
    assert result.sent == ["Reader@example.org"] and len(inbox.raw) == 1
    raw = inbox.raw[0]
    path = received_unsubscribe_path(raw)
    assert path == f"/unsubscribe/{sub.unsubscribe_token}"
    assert re.search(rb"^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$", raw, re.M)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["To"] == "Reader@example.org" and msg["Bcc"] is None
    assert msg["Subject"] == "Weekly Bcc: x@y.z: week of 16 Nov 2026"  # the title is one line, not a header
    assert inbox.envelopes == [("digest@radpulse.example", ["Reader@example.org"])]
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


@pytest.mark.parametrize("base_url", ["javascript:alert(1)", "https://r.example/a b", "https://r.example/<x>",
                                      "https://r\u00e9.example"])
def test_a_base_url_that_cannot_go_in_a_header_is_refused_before_connecting(db, smtp, base_url):
    inbox, port = smtp
    seed(db)
    add_subscriber(db, "a@example.org")
    with pytest.raises(ConfigError, match=r"\[digest\] base_url .* cannot make an unsubscribe link"):
        send_digests(db, settings_for(port, base_url=base_url), start=MONDAY)
    assert inbox.raw == []


def test_get_never_unsubscribes_post_and_one_click_do(db, smtp):
    from radpulse.dashboards.app import create_app

    inbox, port = smtp
    seed(db)
    for address in ("scanned@example.org", "clicked@example.org", "oneclick@example.org"):
        add_subscriber(db, address)
    send_digests(db, settings_for(port, base_url=LONG_BASE), start=MONDAY)
    links = {m["To"]: received_unsubscribe_path(raw) for m, raw in zip(inbox.messages, inbox.raw)}
    client = create_app(db).server.test_client()

    for address, path in links.items():  # a mail scanner prefetches every link, twice
        for _ in range(2):
            page = client.get(path)
            assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
            body = page.get_data(as_text=True)
            assert f"Stop sending the radpulse weekly digest to {address}?" in body
            assert "<form method=post" in body
        assert client.head(path).status_code == 200
        assert active(db, address)

    form = client.post(links["clicked@example.org"], data={"List-Unsubscribe": "One-Click"})
    assert form.status_code == 200 and "will not receive" in form.get_data(as_text=True)
    one_click = client.post(links["oneclick@example.org"], data="List-Unsubscribe=One-Click",
                            content_type="application/x-www-form-urlencoded")
    assert one_click.status_code == 200
    assert (active(db, "scanned@example.org"), active(db, "clicked@example.org"),
            active(db, "oneclick@example.org")) == (True, False, False)
    assert "already unsubscribed" in client.get(links["clicked@example.org"]).get_data(as_text=True)
    assert client.get("/unsubscribe/not-a-token").status_code == 404
    assert send_digests(db, settings_for(port), start=MONDAY).skipped == ["scanned@example.org"]
