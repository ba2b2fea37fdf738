"""The deletion sweep: older posts are re-checked at the source, so deletions are honoured for good.

The engagement refresh re-reads only posts younger than `[refresh] max_age_days`. A post deleted
later would stay published for ever; the sweep closes that gap at a slower pace. Each run takes,
per platform, at most `[refresh] deletion_batch` posts older than `max_age_days` that have not
been read for `deletion_sweep_days` (longest unread first), and re-reads them through the
collector's `refresh`: posts gone at the source come back deleted and are purged, the others
get their latest metrics and their read time, so the next run moves on to other posts. A
daily run with a batch of B re-checks B x deletion_sweep_days posts per platform per cycle.

Reads go through the same clients as collection: the same rate limits, and on X the same
monthly read budget (the sweep stops before it, like collection).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import or_, select

from radpulse.collectors.runner import AfterBatch, RunSummary, refresh_platforms
from radpulse.config import Settings
from radpulse.db.engine import Database
from radpulse.db.models import Post
from radpulse.records import PostRef, utcnow

#: the platforms whose collectors can re-read posts by id
SWEPT_PLATFORMS = ("x", "reddit", "mastodon", "bluesky")


def posts_due_for_deletion_check(
    db: Database, platform: str, settings: Settings, now: dt.datetime | None = None
) -> list[PostRef]:
    """Posts older than the refresh window, not read for `deletion_sweep_days`: one batch, longest unread first."""
    rules = settings.refresh
    if rules.deletion_sweep_days <= 0:
        return []
    now = now or utcnow()
    older_than = now - dt.timedelta(days=rules.max_age_days)
    unread_since = now - dt.timedelta(days=rules.deletion_sweep_days)
    p = Post
    query = (
        select(p.platform, p.external_id, p.created_at, p.url, p.community)
        .where(p.platform == platform, p.is_deleted.is_(False), p.synthetic.is_(False), p.created_at < older_than,
               or_(p.metrics_read_at.is_(None), p.metrics_read_at < unread_since))
        .order_by(p.metrics_read_at.is_not(None), p.metrics_read_at, p.id)  # never read first
        .limit(rules.deletion_batch)
    )
    with db.engine.connect() as conn:
        return [PostRef(*row) for row in conn.execute(query)]


def sweep_deletions(
    db: Database, settings: Settings, platforms: Sequence[str], *, now: dt.datetime | None = None,
    after_batch: Sequence[AfterBatch] = (),
) -> list[RunSummary]:
    """Re-check one batch of older posts per platform for deletion; one run summary per platform
    (`after_batch`: the caller's steps, e.g. marking the days whose rollups changed)."""
    if settings.refresh.deletion_sweep_days <= 0:
        return []
    wanted = [p for p in platforms if p in SWEPT_PLATFORMS]
    return refresh_platforms(db, settings, wanted, now=now, select_posts=posts_due_for_deletion_check, kind="sweep",
                             after_batch=after_batch)


__all__ = ["SWEPT_PLATFORMS", "posts_due_for_deletion_check", "sweep_deletions"]
