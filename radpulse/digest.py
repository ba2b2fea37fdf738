"""The weekly email digest: what radiology talked about last week, sent to subscribers.

One digest per ISO week (Monday to Sunday, UTC): volume against the week before, the papers with
the most attention, the most engaging posts, the subspecialties discussed and the sentiment mix.
Posts held for review (possible patient information and other flags) never appear in it. Every
subscriber gets the week once: a row in `sent_digests` per (subscriber, week) makes a rerun send
only to those who did not get it yet, so a failed or interrupted send is simply run again.

The HTML is rendered by Jinja2 with autoescaping, so posted text shows as text; a plain-text part
goes with it. Mail leaves through the SMTP server of `[smtp]` (password in RADPULSE_SMTP_PASSWORD)
with a List-Unsubscribe header pointing at the dashboard's `/unsubscribe/<token>` page.
"""

from __future__ import annotations

import datetime as dt
import secrets
import smtplib
import ssl
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from jinja2 import DictLoader, Environment, StrictUndefined, select_autoescape
from sqlalchemy import and_, func, select, update

from radpulse.analysis.pipeline import ANNOTATOR_NAME
from radpulse.analysis.review import held_clause
from radpulse.collectors.base import utcnow
from radpulse.config import Settings
from radpulse.db.engine import Database
from radpulse.db.models import Annotation, Meta, Post, SentDigest, Subscriber
from radpulse.digest_templates import HTML, TEXT
from radpulse.safeurl import safe_http_url
from radpulse.errors import InputError, RadpulseError, network_reason
from radpulse.literature.attention import article_attention

SNIPPET = 280
PLATFORM_NAMES = {"x": "X", "reddit": "Reddit", "mastodon": "Mastodon", "bluesky": "Bluesky"}


class DeliveryError(RadpulseError):
    """The SMTP server could not be reached or refused the login."""

    exit_code = 1


# -- the week ---------------------------------------------------------------------------------


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The ISO week holding `day`: (its Monday, the next Monday)."""
    start = day - dt.timedelta(days=day.weekday())
    return start, start + dt.timedelta(days=7)


def last_full_week(now: dt.datetime | None = None) -> tuple[dt.date, dt.date]:
    """The most recent week that has ended (the default digest period)."""
    today = (now or utcnow()).date()
    return week_of(today - dt.timedelta(days=7))


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)


# -- the content ------------------------------------------------------------------------------


@dataclass
class Digest:
    """Everything a digest shows for one week (and optionally some subspecialties)."""

    start: dt.date
    end: dt.date
    title: str
    posts: int = 0
    posts_before: int = 0
    authors: int = 0
    by_platform: list[tuple[str, int]] = field(default_factory=list)
    articles: list[dict[str, Any]] = field(default_factory=list)
    top_posts: list[dict[str, Any]] = field(default_factory=list)
    topics: list[tuple[str, int]] = field(default_factory=list)
    sentiment: dict[str, float] = field(default_factory=dict)
    emerging: list[dict[str, Any]] = field(default_factory=list)
    topic_filter: list[str] = field(default_factory=list)
    synthetic: bool = False
    base_url: str = ""

    @property
    def change(self) -> str:
        """Volume against the week before, as '+12%' (or 'new' when there was none)."""
        if not self.posts_before:
            return "new" if self.posts else "0%"
        pct = round(100 * (self.posts - self.posts_before) / self.posts_before)
        return f"{pct:+d}%"

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)


def build_digest(
    db: Database, settings: Settings, start: dt.date, end: dt.date, *, topics: list[str] | None = None
) -> Digest:
    """The digest of [start, end): counts, papers, posts, subspecialties and sentiment."""
    conf = settings.digest
    digest = Digest(start=start, end=end, title=conf.title, topic_filter=list(topics or []),
                    base_url=conf.base_url.rstrip("/"))
    since, until = _at(start), _at(end)
    p, a = Post.__table__.c, Annotation.__table__.c
    in_week = and_(p.created_at >= since, p.created_at < until, p.is_deleted.is_(False))
    annotated = and_(a.post_id == p.id, a.model_name == ANNOTATOR_NAME)
    with db.engine.connect() as conn:
        topic_posts = None
        if digest.topic_filter:
            topic_posts = select(a.post_id).where(a.model_name == ANNOTATOR_NAME,
                                                  a.subspecialty.in_(digest.topic_filter))
        scope = in_week if topic_posts is None else and_(in_week, p.id.in_(topic_posts))
        digest.posts = conn.execute(select(func.count()).where(scope)).scalar() or 0
        before = and_(p.created_at >= _at(start - dt.timedelta(days=7)), p.created_at < since, p.is_deleted.is_(False))
        if topic_posts is not None:
            before = and_(before, p.id.in_(topic_posts))
        digest.posts_before = conn.execute(select(func.count()).where(before)).scalar() or 0
        digest.authors = conn.execute(
            select(func.count(func.distinct(p.author_external_id))).where(scope)).scalar() or 0
        digest.by_platform = [(PLATFORM_NAMES.get(k, k), n) for k, n in conn.execute(
            select(p.platform, func.count()).where(scope).group_by(p.platform).order_by(func.count().desc()))]
        digest.synthetic = bool(conn.execute(select(Meta.value).where(Meta.key == "demo")).scalar())

        engagement = (func.coalesce(p.like_count, 0) + func.coalesce(p.repost_count, 0)
                      + func.coalesce(p.reply_count, 0) + func.coalesce(p.score, 0))
        rows = conn.execute(
            select(p.platform, p.url, p.text, p.title, p.created_at, p.like_count, p.repost_count, p.reply_count,
                   engagement.label("engagement"))
            .where(scope, p.reposted_id.is_(None), p.text.is_not(None), ~held_clause(p.id))
            .order_by(engagement.desc(), p.id).limit(conf.top_n)
        )
        for r in rows:
            body = " ".join(f"{r.title or ''} {r.text or ''}".split())
            digest.top_posts.append({
                "platform": PLATFORM_NAMES.get(r.platform, r.platform), "url": r.url,
                "text": body if len(body) <= SNIPPET else body[: SNIPPET - 1].rstrip() + "…",
                "date": r.created_at.date() if r.created_at else None, "likes": r.like_count or 0,
                "reposts": r.repost_count or 0, "replies": r.reply_count or 0,
            })

        topic_counts = conn.execute(
            select(a.subspecialty, func.count()).select_from(Post.__table__).join(Annotation.__table__, annotated)
            .where(scope, a.subspecialty.is_not(None), a.subspecialty != "general")
            .group_by(a.subspecialty).order_by(func.count().desc(), a.subspecialty).limit(8)
        )
        digest.topics = [(name, n) for name, n in topic_counts]
        mix = dict(conn.execute(
            select(a.sentiment, func.count()).select_from(Post.__table__).join(Annotation.__table__, annotated)
            .where(scope, a.sentiment.is_not(None)).group_by(a.sentiment)
        ).all())
        total = sum(mix.values())
        digest.sentiment = {k: round(100 * mix.get(k, 0) / total) for k in ("positive", "neutral", "negative")} if total else {}

        frames = [article_attention(conn, since=since, until=until, topic=t, limit=conf.top_n)
                  for t in (digest.topic_filter or [None])]
        digest.emerging = _emerging(conn, since, until, topic_posts)
    seen: set[int] = set()
    for frame in frames:
        for row in frame.to_dict("records"):
            if row["article_id"] in seen:
                continue
            seen.add(row["article_id"])
            digest.articles.append({
                "title": row["title"] or row["key"], "journal": row["journal"] or "",
                "url": f"https://doi.org/{row['doi']}" if row["doi"] else (
                    f"https://pubmed.ncbi.nlm.nih.gov/{row['pmid']}/" if row["pmid"] else None),
                "score": row["score"], "mentions": int(row["mentions"]), "authors": int(row["unique_authors"]),
            })
    digest.articles.sort(key=lambda x: -x["score"])
    digest.articles = digest.articles[: conf.top_n]
    return digest


def _emerging(conn: Any, since: dt.datetime, until: dt.datetime, topic_posts: Any) -> list[dict[str, Any]]:
    """Terms and hashtags used by more distinct accounts this week than in the four before."""
    from radpulse.analysis.discovery import discovery_frame, emerging_terms

    frame = discovery_frame(conn, since - 4 * (until - since), until, post_ids=topic_posts)
    terms = emerging_terms(frame, until, window=until - since, top=8)
    return [{"term": r["term"], "authors": int(r["authors"]), "new": bool(r["new"])} for r in terms.to_dict("records")]


# -- rendering --------------------------------------------------------------------------------

_ENV = Environment(loader=DictLoader({"digest.html": HTML, "digest.txt": TEXT}),
                   autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
                   undefined=StrictUndefined, trim_blocks=False, keep_trailing_newline=True)
_ENV.filters["http_url"] = safe_http_url  # the only way a stored URL becomes a link


def render(digest: Digest, unsubscribe: str | None = None) -> tuple[str, str]:
    """(HTML, plain text) of the digest; every text from the database is escaped in the HTML."""
    html_doc = _ENV.get_template("digest.html").render(d=digest, unsubscribe=unsubscribe)
    text_doc = _ENV.get_template("digest.txt").render(d=digest, unsubscribe=unsubscribe)
    return html_doc, text_doc


# -- subscribers ------------------------------------------------------------------------------


def normalise_email(value: str) -> str:
    """The address as stored (domain lower-cased); InputError when it is not one address."""
    text = (value or "").strip()
    try:
        addr = Address(addr_spec=text)
    except (ValueError, IndexError) as exc:
        raise InputError(f"{value!r} is not an email address ({exc}).", hint="Give one address like name@example.org.") from None
    if not addr.username or "." not in addr.domain:
        raise InputError(f"{value!r} is not an email address.", hint="Give one address like name@example.org.")
    return f"{addr.username}@{addr.domain.lower()}"


def add_subscriber(db: Database, email: str, *, name: str | None = None, topics: list[str] | None = None) -> tuple[Subscriber, bool]:
    """Add (or re-activate and update) a subscriber; (row, created)."""
    from radpulse.analysis.lexicon import SUBSPECIALTIES

    address = normalise_email(email)
    unknown = sorted(set(topics or []) - set(SUBSPECIALTIES))
    if unknown:
        raise InputError(f"unknown subspecialty {', '.join(unknown)}.", hint=f"Choose from: {', '.join(SUBSPECIALTIES)}.")
    with db.session() as s:
        row = s.execute(select(Subscriber).where(Subscriber.email == address)).scalar_one_or_none()
        created = row is None
        if row is None:
            row = Subscriber(email=address, unsubscribe_token=secrets.token_urlsafe(32), created_at=utcnow())
            s.add(row)
        row.name = name or row.name
        row.topics = list(topics or row.topics or [])
        row.active = True
        s.flush()
        s.expunge(row)
    return row, created


def remove_subscriber(db: Database, email: str) -> bool:
    """Delete a subscriber (and the record of what they were sent); False when unknown."""
    address = normalise_email(email)
    with db.session() as s:
        row = s.execute(select(Subscriber).where(Subscriber.email == address)).scalar_one_or_none()
        if row is None:
            return False
        s.delete(row)
    return True


def unsubscribe(db: Database, token: str) -> str | None:
    """Deactivate the subscriber with this token; their address, or None for an unknown token."""
    with db.engine.begin() as conn:
        email = conn.execute(select(Subscriber.email).where(Subscriber.unsubscribe_token == token)).scalar()
        if email is not None:
            conn.execute(update(Subscriber).where(Subscriber.unsubscribe_token == token).values(active=False))
    return email


def list_subscribers(db: Database) -> list[dict[str, Any]]:
    """Every subscriber: email, name, topics, active, created_at (tokens stay in the database)."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(Subscriber.email, Subscriber.name, Subscriber.topics, Subscriber.active, Subscriber.created_at)
            .order_by(Subscriber.email))
        return [dict(r._mapping) for r in rows]


# -- sending ----------------------------------------------------------------------------------


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
    """The email to one subscriber: text and HTML parts, Message-ID, List-Unsubscribe."""
    unsubscribe_url = f"{digest.base_url}/unsubscribe/{token}"
    html_doc, text_doc = render(digest, unsubscribe_url)
    msg = EmailMessage()
    msg["Subject"] = f"{digest.title}: week of {digest.start:%d %b %Y}"
    msg["From"] = settings.smtp.from_address
    msg["To"] = to
    domain = settings.smtp.from_address.rpartition("@")[2] or "radpulse.local"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text_doc)
    msg.add_alternative(html_doc, subtype="html")
    return msg


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
    digests: dict[tuple[str, ...], Digest] = {}
    server = _connect(settings)
    try:
        for i, sub in enumerate(todo):
            key = tuple(sorted(sub.topics or []))
            if key not in digests:
                digests[key] = build_digest(db, settings, start, end, topics=list(key))
            msg = compose(settings, digests[key], sub.email, sub.unsubscribe_token)
            try:
                server.send_message(msg)
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


__all__ = ["DeliveryError", "Digest", "SendResult", "add_subscriber", "build_digest", "compose", "last_full_week",
           "list_subscribers", "remove_subscriber", "render", "send_digests", "unsubscribe", "week_of"]
