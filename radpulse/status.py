"""What `radpulse status` and `radpulse sources list` report."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from radpulse.config import Settings
from radpulse.db.engine import Database, current_revision
from radpulse.db.models import (
    Annotation,
    Article,
    Author,
    CollectionRun,
    Mention,
    Meta,
    Post,
    PostSource,
    Quarantine,
    Source,
)


def source_overview(db: Database, settings: Settings) -> list[dict[str, Any]]:
    """Every enabled source with its post count and last run."""
    from radpulse.sources import sync_sources

    specs = sync_sources(db, settings)
    with db.engine.connect() as conn:
        counts = dict(conn.execute(select(PostSource.source_id, func.count()).group_by(PostSource.source_id)).all())
        last_id = select(CollectionRun.source_id, func.max(CollectionRun.id).label("id")).group_by(CollectionRun.source_id).subquery()
        last = {
            r.source_id: r
            for r in conn.execute(
                select(CollectionRun).join(last_id, CollectionRun.id == last_id.c.id)
            )
        }
        synthetic = conn.execute(select(Source).where(Source.synthetic.is_(True))).all()
    rows = []
    for s in specs:
        run = last.get(s.id)
        rows.append({
            "name": s.name, "platform": s.platform, "kind": s.kind, "value": s.value,
            "posts": counts.get(s.id, 0),
            "last_run": run.started_at.isoformat(timespec="seconds") if run else None,
            "last_status": run.status if run else "never run",
            "last_error": run.error if run else None,
        })
    for s in synthetic:
        rows.append({"name": s.name, "platform": s.platform, "kind": s.kind, "value": s.value,
                     "posts": counts.get(s.id, 0), "last_run": None, "last_status": "synthetic (demo)", "last_error": None})
    return rows


def status_report(db: Database, settings: Settings) -> dict[str, Any]:
    """Counts, sources and their last runs, and API budgets."""
    from radpulse.collectors.runner import api_units_spent, current_period

    with db.engine.connect() as conn:
        posts = dict(conn.execute(select(Post.platform, func.count()).group_by(Post.platform)).all())
        totals = {
            "posts": sum(posts.values()),
            "posts_by_platform": posts,
            "authors": conn.execute(select(func.count()).select_from(Author)).scalar(),
            "articles": conn.execute(select(func.count()).select_from(Article)).scalar(),
            "mentions": conn.execute(select(func.count()).select_from(Mention)).scalar(),
            "annotations": conn.execute(select(func.count()).select_from(Annotation)).scalar(),
            "quarantined": conn.execute(select(func.count()).select_from(Quarantine)).scalar(),
            "synthetic_posts": conn.execute(select(func.count()).select_from(Post).where(Post.synthetic.is_(True))).scalar(),
        }
        demo = conn.execute(select(Meta.value).where(Meta.key == "demo")).scalar()
    spent = api_units_spent(db, "x")
    budget = settings.x.monthly_read_budget
    sources = source_overview(db, settings)
    x_exhausted = spent >= budget or any(
        s["platform"] == "x" and s["last_status"] == "budget_exhausted" for s in sources
    )
    return {
        "database": db.engine.url.render_as_string(hide_password=True),
        "schema_revision": current_revision(db.engine),
        "synthetic_demo": demo,
        "totals": totals,
        "budgets": {
            "x": {
                "period": current_period(), "spent": spent, "budget": budget,
                "remaining": max(budget - spent, 0),
                "state": "exhausted: X collection stopped until next month or a higher [x].monthly_read_budget"
                if x_exhausted else "ok",
            }
        },
        "sources": sources,
    }
