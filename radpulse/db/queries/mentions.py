"""The citations the attention score reads: one row per public post citing an article, with the
post's platform, author, time and engagement (radpulse.literature.attention scores them).

Two sources answer the same question: the posts themselves (any window; the held rule checked
per mention) and `rollup_mention_daily` (windows of whole UTC days; public already, kept by the
rollup refresh). Each query comes with its columns and each column's kind, for an Arrow read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, and_, case, exists, select, type_coerce

from radpulse.db.models import Mention, Post, RollupMentionDaily
from radpulse.db.queries.filters import PostFilters, public_where

#: columns of a read from the posts (the mention's kind is told from the two references)
POST_COLUMNS = {"article_id": "int", "post_id": "int", "platform": "text", "author": "text", "created_at": "text",
                "in_reply_to": "text", "reposted": "text", "kind": "text", "likes": "int", "reposts": "int",
                "replies": "int"}
#: columns of a read from `rollup_mention_daily` (the kind is stored)
ROLLUP_COLUMNS = {"article_id": "int", "post_id": "int", "platform": "text", "author": "text", "created_at": "text",
                  "kind": "text", "likes": "int", "reposts": "int", "replies": "int"}


def kind_of(p: Any) -> Any:
    """SQL: what a citing post is, from its columns `p`: a repost, a reply, or an original post
    (a reference that is missing or empty is none)."""
    given = lambda column: and_(column.is_not(None), column != "")  # noqa: E731
    return case((given(p.reposted_id), "repost"), (given(p.in_reply_to_id), "reply"), else_="original")


def _labelled(columns: list[Any], names: dict[str, str]) -> list[Any]:
    return [c.label(name) for c, name in zip(columns, names)]


def from_posts(dialect: str, f: PostFilters) -> Any:
    """The public mentions of `f`'s window and platforms, from the posts (columns: POST_COLUMNS)."""
    m, p = Mention.__table__.c, Post.__table__.c
    seen = Post.__table__.alias("seen").c
    # SQLite: the stored UTC text, parsed once by pandas (not row by row)
    created = type_coerce(p.created_at, String) if dialect == "sqlite" else p.created_at
    columns = [m.article_id, m.post_id, p.platform, p.author_external_id, created, p.in_reply_to_id, p.reposted_id,
               kind_of(p), p.like_count, p.repost_count, p.reply_count]
    return (
        select(*_labelled(columns, POST_COLUMNS))
        .join(Post.__table__, p.id == m.post_id)
        # tested per mention (EXISTS on the same post) so that SQLite walks the mentions, not
        # every post of the window (0.1 s instead of 10 s for a year of a million posts)
        .where(exists().where(seen.id == m.post_id,
                              public_where(PostFilters(start=f.start, end=f.end, platforms=f.platforms), seen)))
    )


def from_rollup(dialect: str, f: PostFilters) -> Any:
    """The same for a window of whole days (`f.whole_days()`), from `rollup_mention_daily`
    (columns: ROLLUP_COLUMNS)."""
    from radpulse.db.queries.rollups import day_window  # here: the scheduler's refresh imports this module, not pandas

    r = RollupMentionDaily
    created = type_coerce(r.created_at, String) if dialect == "sqlite" else r.created_at
    columns = [r.article_id, r.post_id, r.platform, r.author_id, created, r.kind, r.likes, r.reposts, r.replies]
    where = day_window(r.day, f)
    if f.platforms:
        where.append(r.platform.in_(f.platforms))
    return select(*_labelled(columns, ROLLUP_COLUMNS)).where(*where)
