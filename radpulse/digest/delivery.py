"""Sending the digest: one email per subscriber over SMTP, never the same week twice.

A row in `sent_digests` per (subscriber, week), claimed before sending (claims.py), makes
concurrent senders send each message once and a rerun send only to those who did not get it
yet, so a failed or interrupted send is simply run again. Mail leaves through the SMTP server of
`[smtp]` (password in RADPULSE_SMTP_PASSWORD) with a `List-Unsubscribe` header naming the
dashboard's `/unsubscribe/<token>` page and `List-Unsubscribe-Post` for one-click (RFC 8058).

Headers are written with a 998-character line limit (RFC 5322's hard limit): with the usual 78
the email package RFC 2047-encodes a long unsubscribe URL, which mail clients then cannot read.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import re
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from radpulse.config import Settings
from radpulse.db.engine import Database
from radpulse.db.models import SentDigest, Subscriber
from radpulse.digest.addresses import AddressError, envelope_address
from radpulse.digest.claims import Claims, new_holder
from radpulse.digest.content import Digest, build_digest, last_full_week, week_of
from radpulse.digest.render import render
from radpulse.digest.smtp import DeliveryError, Mailer  # noqa: F401 - DeliveryError is re-exported
from radpulse.errors import ConfigError
from radpulse.terminal import terminal_safe

POLICY = email.policy.SMTP.clone(max_line_length=998)
MAX_URL = 900
_HEADER_SAFE = re.compile(r"[!-~]+")  # printable ASCII, no space


@dataclass
class SendResult:
    start: dt.date
    end: dt.date
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    #: the connection ended during DATA, now or in an earlier run: maybe delivered, not resent
    unknown: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"week_start": self.start.isoformat(), "week_end": self.end.isoformat(), "sent": self.sent,
                "already_sent": self.skipped, "failed": self.failed, "unknown": self.unknown}


def compose(settings: Settings, digest: Digest, to: str, token: str) -> EmailMessage:
    """The email to one subscriber: text and HTML parts, Message-ID, List-Unsubscribe (RFC 2369, 8058).

    Every header is built from a validated value: the recipient is re-validated here (an address
    stored before validation existed raises AddressError), the sender and the unsubscribe URL are
    checked by `check_headers`, the subject is one line.
    """
    recipient = envelope_address(to)
    sender = sender_address(settings)
    unsubscribe_url = unsubscribe_link(digest.base_url, token)
    html_doc, text_doc = render(digest, unsubscribe_url)
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = one_line(f"{digest.title}: week of {digest.start:%d %b %Y}")
    msg["From"] = Address(addr_spec=sender)
    msg["To"] = Address(addr_spec=recipient)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text_doc, cte="quoted-printable")  # 7-bit clean, short lines, whatever the server
    msg.add_alternative(html_doc, subtype="html", cte="quoted-printable")
    return msg


def check_headers(settings: Settings) -> None:
    """ConfigError naming the key when `[smtp] from_address` or `[digest] base_url` cannot go in a header."""
    sender_address(settings)
    unsubscribe_link(settings.digest.base_url.rstrip("/"), "token")


def sender_address(settings: Settings) -> str:
    """`[smtp] from_address`, checked: one plain ASCII address."""
    value = settings.smtp.from_address.strip()
    try:
        if not _HEADER_SAFE.fullmatch(value):
            raise ValueError("it has spaces, control or non-ASCII characters")
        parsed = Address(addr_spec=value)
        if not parsed.username or not parsed.domain:
            raise ValueError("it needs a name and a domain")
    except (ValueError, IndexError) as exc:
        raise ConfigError(f"[smtp] from_address {ascii(value)} is not one plain address ({exc}).",
                          hint="Set it to an address like digest@your-society.org.") from None
    return value


def unsubscribe_link(base_url: str, token: str) -> str:
    """`<base_url>/unsubscribe/<token>`; ConfigError when it could not go in a header as is."""
    url = f"{base_url}/unsubscribe/{quote(token, safe='')}"
    if not (url.startswith(("https://", "http://")) and _HEADER_SAFE.fullmatch(url) and "<" not in url
            and ">" not in url and len(url) <= MAX_URL):
        raise ConfigError(f"[digest] base_url {ascii(base_url)} cannot make an unsubscribe link for an email header.",
                          hint=f"Use an http(s) URL of plain ASCII (punycode for international domains), without "
                               f"spaces or angle brackets, under {MAX_URL - 70} characters.")
    return url


def one_line(text: str) -> str:
    """`text` as one header line: control characters removed, whitespace runs made one space."""
    return " ".join(terminal_safe(text).split())


def send_digests(
    db: Database, settings: Settings, *, start: dt.date | None = None, dry_run: bool = False,
    now: dt.datetime | None = None, emails: list[str] | None = None, force: bool = False,
    mailer: Mailer | None = None,
) -> SendResult:
    """Send the week's digest to every active subscriber who has not had it; never twice.

    Each (subscriber, week) is claimed in the database before its message is composed and
    marked 'sending' with its Message-ID right before DATA (radpulse/digest/claims.py), so any
    number of concurrent senders send it once. `emails` limits it to those subscribers,
    `force` resends a week already 'sent' or 'unknown' (the operator's `digest resend`).
    """
    if start is None:
        start, end = last_full_week(now)
    else:
        start, end = week_of(start)
    result = SendResult(start, end)
    claims = Claims(db, SentDigest, new_holder())
    claims.settle()
    query = (select(Subscriber.id, Subscriber.email, Subscriber.topics, Subscriber.unsubscribe_token)
             .where(Subscriber.active.is_(True), Subscriber.frequency == "weekly").order_by(Subscriber.email))
    if emails is not None:
        query = query.where(Subscriber.email.in_(emails))
    with db.engine.connect() as conn:
        subscribers = conn.execute(query).all()
    states = claims.states({"period_start": start}, [sub.id for sub in subscribers])
    finished = () if force else ("sent", "unknown", "sending")
    result.skipped = [sub.email for sub in subscribers if states.get(sub.id) in finished]
    result.unknown = [sub.email for sub in subscribers if states.get(sub.id) == "unknown" and not force]
    todo = [sub for sub in subscribers if states.get(sub.id) not in finished]
    if dry_run:  # who would get it, nothing sent or recorded
        result.sent = [sub.email for sub in todo]
        return result
    if not todo:
        return result
    check_headers(settings)
    digests: dict[tuple[str, ...], Digest] = {}
    mailer = mailer or Mailer(settings)
    mailer.connect()  # an unreachable server or a refused login: DeliveryError, nothing claimed
    try:
        for sub in todo:
            key = tuple(sorted(sub.topics or []))
            if key not in digests:
                digests[key] = build_digest(db, settings, start, end, topics=list(key))
            row = {"subscriber_id": sub.id, "period_start": start}
            if not claims.claim(row, {"period_end": end}, force=force):
                result.skipped.append(sub.email)  # another sender has it, or has just sent it
                continue
            try:
                msg = compose(settings, digests[key], sub.email, sub.unsubscribe_token)
            except AddressError as exc:
                result.failed[sub.email] = f"the stored address cannot be used ({exc.message}); remove it and add it again"
                claims.mark(row, "failed", error=result.failed[sub.email])
                continue
            message_id = msg["Message-ID"]
            outcome = mailer.deliver(msg, before_data=lambda: claims.mark(row, "sending", message_id=message_id),
                                     after_refusal=lambda: claims.mark(row, "claimed"))
            if outcome.status == "sent":
                record_sent(claims, row, message_id)
                result.sent.append(sub.email)
            elif outcome.status == "lost":
                result.skipped.append(sub.email)
            else:
                claims.mark(row, outcome.status, error=outcome.error)
                (result.unknown.append(sub.email) if outcome.status == "unknown"
                 else result.failed.__setitem__(sub.email, outcome.error or "failed"))
    finally:
        mailer.close()
    return result


def record_sent(claims: Claims, row: dict[str, Any], message_id: str) -> None:
    """The server accepted the message: the delivery is done (a crash before this leaves it 'sending',
    which becomes 'unknown' and is never resent automatically)."""
    claims.mark(row, "sent", message_id=message_id)
