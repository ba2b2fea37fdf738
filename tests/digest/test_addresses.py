"""Subscriber addresses: parsed by a real parser, stored normalised, deceptive ones refused (issue 12.8)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from digest_helpers import IN_WEEK, MONDAY, seed, settings_for
from sqlalchemy import insert, select

from radpulse.cli.main import cli
from radpulse.db.engine import open_database
from radpulse.db.models import SentDigest, Subscriber
from radpulse.digest import (
    AddressError,
    add_subscriber,
    normalise_email,
    remove_subscriber,
    send_digests,
)

INJECTION = '"a@b.co>\nBcc: x@y.z"@evil.org'
REFUSED = {
    "header injection in a quoted local part": (INJECTION, "invalid characters"),
    "CRLF and a Bcc header": ("a@b.co\r\nBcc: x@y.z", "invalid characters"),
    "zero-width space in the local part": ("ali\u200bce@example.org", "ZERO WIDTH SPACE"),
    "zero-width space in the domain": ("alice@exam\u200bple.org", "ZERO WIDTH SPACE"),
    "right-to-left override": ("alice@example.org\u202e", "RIGHT-TO-LEFT OVERRIDE"),
    "Cyrillic a inside a Latin domain": ("alice@p\u0430ypal.com", "mixes the scripts Cyrillic, Latin"),
    "Greek omicron inside a Latin local part": ("b\u03bfb@example.org", "mixes the scripts Greek, Latin"),
    "all-Cyrillic look-alike of apple (punycode)": ("alice@xn--80ak6aa92e.com", "look like ASCII letters"),
    "two addresses": ("a@example.org, b@example.org", "invalid characters"),
    "display name": ("Alice <a@example.org>", "display name and angle brackets"),
    "no domain": ("alice", "must have an @-sign"),
}


@pytest.mark.parametrize("address,reason", list(REFUSED.values()), ids=list(REFUSED))
def test_deceptive_and_malformed_addresses_are_refused_and_nothing_is_stored(db, address, reason):
    with pytest.raises(AddressError, match=reason) as info:
        add_subscriber(db, address)
    assert info.value.exit_code == 2 and "\n" not in str(info.value) and "\r" not in str(info.value)
    with db.engine.connect() as conn:
        assert conn.execute(select(Subscriber)).first() is None


@pytest.mark.parametrize("given,stored", [
    ("  Alice@Example.ORG ", "Alice@example.org"),
    ("a@M\u00fcnchen.DE", "a@m\u00fcnchen.de"),
    ("a@xn--mnchen-3ya.de", "a@m\u00fcnchen.de"),
    ("a@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444", "a@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444"),
    ("a@\u65e5\u672c\u8a9e\u30c9\u30e1\u30a4\u30f3.jp", "a@\u65e5\u672c\u8a9e\u30c9\u30e1\u30a4\u30f3.jp"),
])
def test_real_addresses_including_international_domains_are_stored_normalised(db, given, stored):
    row, created = add_subscriber(db, given)
    assert created and row.email == stored == normalise_email(stored)
    again, created_again = add_subscriber(db, given)  # the same person added again finds their row
    assert not created_again and again.id == row.id


def test_cli_refuses_the_injection_address_with_exit_2_and_a_one_paragraph_message(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    open_database(url).dispose()  # only init and demo create a database
    result = CliRunner().invoke(cli, ["--database-url", url, "subscribers", "add", INJECTION])
    assert result.exit_code == 2
    assert "is not an email address radpulse can use" in result.output and "name@example.org" in result.output
    assert "Bcc: x@y.z\n" not in result.output  # the newline is shown escaped, not printed
    listed = CliRunner().invoke(cli, ["--database-url", url, "subscribers", "list", "--json"])
    assert listed.exit_code == 0 and listed.output.strip() == "[]"


def test_an_address_stored_before_validation_is_never_put_in_a_header(db, smtp):
    """A row written by an older radpulse is refused at delivery, recorded, and can be removed."""
    inbox, port = smtp
    seed(db)
    add_subscriber(db, "good@example.org")
    legacy = "a@b.co>\nBcc: x@y.z@evil.org"
    with db.engine.begin() as conn:
        conn.execute(insert(Subscriber), [{"email": legacy, "unsubscribe_token": "legacy-token", "topics": [],
                                           "active": True, "frequency": "weekly", "created_at": IN_WEEK}])
    result = send_digests(db, settings_for(port), start=MONDAY)
    assert result.sent == ["good@example.org"]
    assert "stored address cannot be used" in result.failed[legacy] and "remove it and add it again" in result.failed[legacy]
    assert [rcpts for _, rcpts in inbox.envelopes] == [["good@example.org"]]
    assert all(b"Bcc" not in raw and b"evil.org" not in raw for raw in inbox.raw)
    with db.engine.connect() as conn:
        statuses = dict(conn.execute(select(Subscriber.email, SentDigest.status).join(
            SentDigest, SentDigest.subscriber_id == Subscriber.id)).all())
    assert statuses == {"good@example.org": "sent", legacy: "failed"}
    assert remove_subscriber(db, legacy)
