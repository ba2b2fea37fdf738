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

from sqlalchemy import literal

from radpulse.db.models import DEFAULT_ENGAGEMENT_COLUMNS, ENGAGEMENT_COLUMNS, Post, engagement_sql

__all__ = ["DEFAULT_ENGAGEMENT_COLUMNS", "ENGAGEMENT_COLUMNS", "author_key", "engagement", "engagement_of"]


def engagement(table: Any = None) -> Any:
    """SQL: the engagement of a post row (`table` is `Post` or `Post.__table__.c`/an alias's `.c`).

    Rendered with literal constants, so the posts' engagement index (`ix_posts_engagement`)
    matches it on both databases."""
    return engagement_sql(table if table is not None else Post)


def engagement_of(platform: str, counts: dict[str, int | None]) -> int:
    """The same definition in Python, for one post's counters."""
    names = ENGAGEMENT_COLUMNS.get(platform, DEFAULT_ENGAGEMENT_COLUMNS)
    return sum(int(counts.get(n) or 0) for n in names)


def author_key(table: Any = None) -> Any:
    """SQL: ``platform || ':' || author_external_id`` (NULL when the author is unknown)."""
    t = table if table is not None else Post
    return t.platform + literal(":") + t.author_external_id
