"""Sending the digest: one email per subscriber over SMTP, never the same week twice.

A row in `sent_digests` per (subscriber, week) makes a rerun send only to those who did not get it
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
import smtplib
import ssl
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import quote

from sqlalchemy import select, update

from radpulse.collectors.base import utcnow
from radpulse.config import Settings
from radpulse.db.engine import Database
from radpulse.db.models import SentDigest, Subscriber
from radpulse.digest.addresses import AddressError, envelope_address
from radpulse.digest.content import Digest, build_digest, last_full_week, week_of
from radpulse.digest.render import render
from radpulse.errors import ConfigError, RadpulseError, network_reason
from radpulse.terminal import terminal_safe

POLICY = email.policy.SMTP.clone(max_line_length=998)
MAX_URL = 900
_HEADER_SAFE = re.compile(r"[!-~]+")  # printable ASCII, no space


class DeliveryError(RadpulseError):
    """The SMTP server could not be reached or refused the login."""

    exit_code = 1


@dataclass
class SendResult:
    start: dt.date
    end: dt.date
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"week_start": self.start.isoformat(), "week_end": self.end.isoformat(), "sent": self.sent,
                "already_sent": self.skipped, "failed": self.failed}


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


def _connect(settings: Settings) -> smtplib.SMTP:
    conf = settings.smtp
    where = f"{conf.host}:{conf.port}"
    try:
        if conf.ssl:
            server: smtplib.SMTP = smtplib.SMTP_SSL(conf.host, conf.port, timeout=conf.timeout_seconds,
                                                   context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(conf.host, conf.port, timeout=conf.timeout_seconds)
            if conf.starttls:
                server.starttls(context=ssl.create_default_context())
        if conf.username:
            server.login(conf.username, settings.secret("RADPULSE_SMTP_PASSWORD") or "")
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"the SMTP server {where} refused the login of {conf.username!r} ({exc.smtp_code})",
                            hint="Check [smtp] username and RADPULSE_SMTP_PASSWORD.") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"could not reach the SMTP server {where} ({network_reason(exc)})",
                            hint="Check [smtp] host, port, ssl and starttls; nothing was sent, run again later.") from None
    return server


def send_digests(
    db: Database, settings: Settings, *, start: dt.date | None = None, dry_run: bool = False,
    now: dt.datetime | None = None,
) -> SendResult:
    """Send the week's digest to every active subscriber who has not had it; never twice."""
    if start is None:
        start, end = last_full_week(now)
    else:
        start, end = week_of(start)
    result = SendResult(start, end)
    with db.engine.connect() as conn:
        subscribers = conn.execute(
            select(Subscriber.id, Subscriber.email, Subscriber.topics, Subscriber.unsubscribe_token)
            .where(Subscriber.active.is_(True), Subscriber.frequency == "weekly").order_by(Subscriber.email)
        ).all()
        done = set(conn.execute(select(SentDigest.subscriber_id).where(
            SentDigest.period_start == start, SentDigest.status == "sent")).scalars())
    result.skipped = [sub.email for sub in subscribers if sub.id in done]
    todo = [sub for sub in subscribers if sub.id not in done]
    if dry_run:  # who would get it, nothing sent or recorded
        result.sent = [sub.email for sub in todo]
        return result
    if not todo:
        return result
    check_headers(settings)
    digests: dict[tuple[str, ...], Digest] = {}
    server = _connect(settings)
    try:
        for i, sub in enumerate(todo):
            key = tuple(sorted(sub.topics or []))
            if key not in digests:
                digests[key] = build_digest(db, settings, start, end, topics=list(key))
            try:
                msg = compose(settings, digests[key], sub.email, sub.unsubscribe_token)
            except AddressError as exc:
                result.failed[sub.email] = f"the stored address cannot be used ({exc.message}); remove it and add it again"
                _record(db, sub.id, start, end, status="failed", error=result.failed[sub.email], message_id=None)
                continue
            try:
                server.send_message(msg, from_addr=msg["From"].addresses[0].addr_spec,
                                    to_addrs=[msg["To"].addresses[0].addr_spec])
            except (OSError, smtplib.SMTPException) as exc:
                error = network_reason(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}"
                result.failed[sub.email] = error
                _record(db, sub.id, start, end, status="failed", error=error, message_id=msg["Message-ID"])
                if isinstance(exc, (OSError, smtplib.SMTPServerDisconnected)):
                    for rest in todo[i + 1:]:
                        result.failed[rest.email] = "not sent: the SMTP connection was lost"
                    break
                continue
            _record(db, sub.id, start, end, status="sent", error=None, message_id=msg["Message-ID"])
            result.sent.append(sub.email)
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return result


def _record(db: Database, subscriber_id: int, start: dt.date, end: dt.date, *, status: str, error: str | None,
            message_id: str | None) -> None:
    """Remember what happened to one subscriber's digest of one week (a later success replaces a failure)."""
    with db.engine.begin() as conn:
        found = conn.execute(select(SentDigest.id).where(SentDigest.subscriber_id == subscriber_id,
                                                         SentDigest.period_start == start)).scalar()
        values = {"period_end": end, "sent_at": utcnow(), "status": status, "error": error, "message_id": message_id}
        if found is None:
            conn.execute(SentDigest.__table__.insert().values(subscriber_id=subscriber_id, period_start=start, **values))
        else:
            conn.execute(update(SentDigest).where(SentDigest.id == found).values(**values))
