"""What a week's digest says: counts, papers, engaging posts, subspecialties, sentiment, new terms.

One digest per ISO week (Monday to Sunday, UTC). Posts held for review (possible patient
information and other flags) never appear in it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, select

from radpulse.analysis.pipeline import ANNOTATOR_NAME
from radpulse.config import Settings
from radpulse.db.engine import Database
from radpulse.db.models import Annotation, Meta, Post
from radpulse.db.queries import PostFilters, author_key, public_where
from radpulse.db.queries import engagement as post_engagement
from radpulse.db.queries.filters import JsonArrayHasAny
from radpulse.db.days import day_start
from radpulse.literature.attention import article_attention
from radpulse.records import utcnow

SNIPPET = 280
PLATFORM_NAMES = {"x": "X", "reddit": "Reddit", "mastodon": "Mastodon", "bluesky": "Bluesky"}


# -- the week ---------------------------------------------------------------------------------


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The ISO week holding `day`: (its Monday, the next Monday)."""
    start = day - dt.timedelta(days=day.weekday())
    return start, start + dt.timedelta(days=7)


def last_full_week(now: dt.datetime | None = None) -> tuple[dt.date, dt.date]:
    """The most recent week that has ended (the default digest period)."""
    today = (now or utcnow()).date()
    return week_of(today - dt.timedelta(days=7))


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


def _has_topic(a: Any, topics: list[str]) -> Any:
    """An annotation whose subspecialty, or one of whose themes, is among `topics`."""
    from sqlalchemy import or_

    return or_(a.subspecialty.in_(topics), JsonArrayHasAny(a.themes, topics))


def build_digest(
    db: Database, settings: Settings, start: dt.date, end: dt.date, *, topics: list[str] | None = None
) -> Digest:
    """The digest of [start, end): counts, papers, posts, subspecialties and sentiment."""
    conf = settings.digest
    digest = Digest(start=start, end=end, title=conf.title, topic_filter=list(topics or []),
                    base_url=conf.base_url.rstrip("/"))
    since, until = day_start(start), day_start(end)
    p, a = Post.__table__.c, Annotation.__table__.c
    in_week = public_where(PostFilters(start=since, end=until), p)
    annotated = and_(a.post_id == p.id, a.model_name == ANNOTATOR_NAME)
    with db.engine.connect() as conn:
        topic_posts = None
        if digest.topic_filter:
            topic_posts = select(a.post_id).where(a.model_name == ANNOTATOR_NAME, _has_topic(a, digest.topic_filter))
        scope = in_week if topic_posts is None else and_(in_week, p.id.in_(topic_posts))
        digest.posts = conn.execute(select(func.count()).where(scope)).scalar() or 0
        before = public_where(PostFilters(start=day_start(start - dt.timedelta(days=7)), end=since), p)
        if topic_posts is not None:
            before = and_(before, p.id.in_(topic_posts))
        digest.posts_before = conn.execute(select(func.count()).where(before)).scalar() or 0
        digest.authors = conn.execute(
            select(func.count(func.distinct(author_key(p)))).where(scope)).scalar() or 0
        digest.by_platform = [(PLATFORM_NAMES.get(k, k), n) for k, n in conn.execute(
            select(p.platform, func.count()).where(scope).group_by(p.platform)
            .order_by(func.count().desc(), p.platform))]  # ties by name: the same order on every database
        digest.synthetic = bool(conn.execute(select(Meta.value).where(Meta.key == "demo")).scalar())

        engagement = post_engagement(p)
        rows = conn.execute(
            select(p.platform, p.url, p.text, p.title, p.created_at, p.like_count, p.repost_count, p.reply_count,
                   engagement.label("engagement"))
            .where(scope, p.reposted_id.is_(None), p.text.is_not(None))
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
