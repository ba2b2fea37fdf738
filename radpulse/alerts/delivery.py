"""Spike alerts to the subscribers who opted in: a short email per subject, once a day at most.

Each (subscriber, subject, day) is claimed in `sent_alerts` before sending, exactly like a
digest (radpulse/digest/claims.py), so reruns and concurrent processes never send one twice.
A subscriber with topics gets the subspecialties and themes among them, and every hashtag.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy import select

from radpulse.alerts.spikes import Spike, find_spikes
from radpulse.config import Settings
from radpulse.db.engine import Database
from radpulse.db.models import Article, Mention, Post, SentAlert, Subscriber
from radpulse.records import utcnow
from radpulse.safeurl import safe_http_url
from radpulse.terminal import terminal_safe

SHOWN_POSTS = 5


@dataclass
class AlertResult:
    day: dt.date
    spikes: list[Spike] = field(default_factory=list)
    #: (email, subject) planned (dry run) or sent
    sent: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(),
                "spikes": [{"subject": s.subject, "posts": s.count, "median": s.median, "mad": s.mad, "z": s.z,
                            **({"attention": s.score} if s.score is not None else {})}
                           for s in self.spikes],
                "sent": [list(x) for x in self.sent], "already_sent": [list(x) for x in self.skipped],
                "failed": self.failed}


def wants(topics: list[str] | None, subject: str) -> bool:
    """Whether a subscriber with `topics` (empty: everything) gets alerts about `subject`."""
    if not topics or subject.startswith(("#", "paper:")):
        return True
    return subject.partition(":")[2] in topics


def subject_label(db: Database, spike: Spike) -> str:
    """How a subject reads in an email: a hashtag or topic as it is, a paper by title and DOI."""
    from radpulse.alerts.attention_jumps import PREFIX, paper_label

    return terminal_safe(paper_label(db, spike.subject)) if spike.subject.startswith(PREFIX) else spike.subject


def alert_text(db: Database, spike: Spike) -> str:
    """The alert's text: the subject, today's volume against its baseline, posts and papers behind it."""
    with db.engine.connect() as conn:
        posts = conn.execute(select(Post.id, Post.platform, Post.text, Post.url).where(Post.id.in_(spike.post_ids))
                             .order_by(Post.like_count.desc().nulls_last(), Post.id).limit(SHOWN_POSTS)).all()
        papers = conn.execute(select(Article.title, Article.doi).join(Mention, Mention.article_id == Article.id)
                              .where(Mention.post_id.in_(spike.post_ids)).distinct().limit(SHOWN_POSTS)).all()
    if spike.score is not None:
        lines = [f"{subject_label(db, spike)}: attention {spike.score:g} on {spike.day:%d %b %Y} from "
                 f"{spike.count} public posts, against a median of {spike.median:g} a day over the weeks "
                 f"before (robust z = {spike.z:g}).", "", "Posts:"]
    else:
        lines = [f"{spike.subject}: {spike.count} public posts on {spike.day:%d %b %Y}, against a median of "
                 f"{spike.median:g} a day over the weeks before (robust z = {spike.z:g}).", "", "Posts:"]
    for p in posts:
        text = " ".join(terminal_safe(p.text or "").split())[:200]
        link = safe_http_url(p.url)
        lines.append(f"- [{p.platform}] {text}" + (f" <{link}>" if link else ""))
    if papers:
        lines += ["", "Papers they cite:"] + [f"- {terminal_safe(a.title or a.doi or 'untitled')}" for a in papers]
    return "\n".join(lines) + "\n"


def send_alerts(db: Database, settings: Settings, *, day: dt.date | None = None, dry_run: bool = False) -> AlertResult:
    """Email each opted-in subscriber the subjects that spiked on `day` (default: yesterday, UTC)."""
    from radpulse.digest.addresses import AddressError
    from radpulse.digest.claims import Claims, new_holder
    from radpulse.digest.delivery import POLICY, check_headers, one_line, sender_address
    from radpulse.digest.smtp import Mailer

    day = day or (utcnow().date() - dt.timedelta(days=1))
    from radpulse.alerts.attention_jumps import find_attention_jumps

    result = AlertResult(day, find_spikes(db, settings, day) + find_attention_jumps(db, settings, day))
    with db.engine.connect() as conn:
        subs = conn.execute(select(Subscriber.id, Subscriber.email, Subscriber.topics)
                            .where(Subscriber.active.is_(True), Subscriber.alerts.is_(True))
                            .order_by(Subscriber.email)).all()
        done = set(conn.execute(select(SentAlert.subscriber_id, SentAlert.subject)
                                .where(SentAlert.day == day, SentAlert.status.in_(("sent", "unknown", "sending")))).all())
    todo = []
    for spike in result.spikes:
        for sub in subs:
            if wants(sub.topics, spike.subject):
                (result.skipped if (sub.id, spike.subject) in done else todo).append((sub, spike))
    result.skipped = [(sub.email, spike.subject) for sub, spike in result.skipped]  # type: ignore[misc]
    if dry_run or not todo:
        result.sent = [(sub.email, spike.subject) for sub, spike in todo] if dry_run else []
        return result
    check_headers(settings)
    claims = Claims(db, SentAlert, new_holder())
    claims.settle()
    mailer = Mailer(settings)
    mailer.connect()
    try:
        for sub, spike in todo:
            key = {"subscriber_id": sub.id, "subject": spike.subject, "day": day}
            if not claims.claim(key):
                result.skipped.append((sub.email, spike.subject))
                continue
            try:
                msg = _compose(settings, sub.email, spike, subject_label(db, spike), alert_text(db, spike), POLICY,
                               one_line, sender_address)
            except AddressError as exc:
                result.failed[f"{sub.email} {spike.subject}"] = exc.message
                claims.mark(key, "failed", error=exc.message)
                continue
            mid = msg["Message-ID"]
            outcome = mailer.deliver(msg, before_data=lambda: claims.mark(key, "sending", message_id=mid),
                                     after_refusal=lambda: claims.mark(key, "claimed"))
            if outcome.status == "sent":
                claims.mark(key, "sent", message_id=mid)
                result.sent.append((sub.email, spike.subject))
            elif outcome.status != "lost":
                claims.mark(key, outcome.status, error=outcome.error)
                result.failed[f"{sub.email} {spike.subject}"] = outcome.error or outcome.status
    finally:
        mailer.close()
    return result


def _compose(settings: Settings, to: str, spike: Spike, label: str, body: str, policy: Any, one_line: Any,
             sender_of: Any) -> EmailMessage:
    from radpulse.digest.addresses import envelope_address

    sender = sender_of(settings)
    msg = EmailMessage(policy=policy)
    what = "draws more attention than usual" if spike.score is not None else "is busier than usual"
    msg["Subject"] = one_line(f"radpulse alert: {label[:150]} {what}")
    msg["From"] = Address(addr_spec=sender)
    msg["To"] = Address(addr_spec=envelope_address(to))
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    msg.set_content(body, cte="quoted-printable")
    return msg
