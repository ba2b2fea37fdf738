"""One definition of engagement and of an author, used by every output.

Engagement per platform counts each interaction once:

- X, Bluesky, Mastodon: likes + reposts + replies + quotes.
- Reddit: score + comments. A Reddit post's score *is* its net upvotes (stored as both
  `score` and `like_count`), so likes are not added again.

An author is a platform account: ``platform:external_id``; the same id on two platforms is two
accounts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, literal

from radpulse.db.models import Post

#: which stored counters make up engagement, per platform (default: the microblog counters)
ENGAGEMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "reddit": ("score", "reply_count"),
}
DEFAULT_ENGAGEMENT_COLUMNS: tuple[str, ...] = ("like_count", "repost_count", "reply_count", "quote_count")


def _sum(table: Any, names: tuple[str, ...]) -> Any:
    expr = None
    for name in names:
        term = func.coalesce(getattr(table, name), 0)
        expr = term if expr is None else expr + term
    return expr


def engagement(table: Any = None) -> Any:
    """SQL: the engagement of a post row (`table` is `Post` or `Post.__table__.c`/an alias's `.c`)."""
    t = table if table is not None else Post
    whens = [(t.platform == platform, _sum(t, cols)) for platform, cols in ENGAGEMENT_COLUMNS.items()]
    return case(*whens, else_=_sum(t, DEFAULT_ENGAGEMENT_COLUMNS))


def engagement_of(platform: str, counts: dict[str, int | None]) -> int:
    """The same definition in Python, for one post's counters."""
    names = ENGAGEMENT_COLUMNS.get(platform, DEFAULT_ENGAGEMENT_COLUMNS)
    return sum(int(counts.get(n) or 0) for n in names)


def author_key(table: Any = None) -> Any:
    """SQL: ``platform || ':' || author_external_id`` (NULL when the author is unknown)."""
    t = table if table is not None else Post
    return t.platform + literal(":") + t.author_external_id
