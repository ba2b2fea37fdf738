"""What `radpulse status` and `radpulse sources list` report."""

from __future__ import annotations

from dataclasses import replace
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
    """Every source the config tracks with its post count and last run, plus the demo's sources.

    Only reads: a source not collected yet is shown as "never run" (`radpulse collect` records it).
    """
    from radpulse.sources import expand_sources

    configured = expand_sources(settings)
    with db.engine.connect() as conn:
        ids = dict(conn.execute(select(Source.name, Source.id)).all())
        counts = dict(conn.execute(select(PostSource.source_id, func.count()).group_by(PostSource.source_id)).all())
        last_id = select(CollectionRun.source_id, func.max(CollectionRun.id).label("id")).group_by(CollectionRun.source_id).subquery()
        last = {
            r.source_id: r
            for r in conn.execute(
                select(CollectionRun).join(last_id, CollectionRun.id == last_id.c.id)
            )
        }
        synthetic = conn.execute(select(Source).where(Source.synthetic.is_(True))).all()
    specs = [replace(s, id=ids.get(s.name)) for s in configured]
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
    from radpulse.collectors.runner import interrupted_runs

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
    sources = source_overview(db, settings)
    budgets = _budgets(db, settings, sources)
    platforms = _platforms(settings, sources)
    return {
        "database": db.engine.url.render_as_string(hide_password=True),
        "schema_revision": current_revision(db.engine),
        "synthetic_demo": demo,
        "totals": totals,
        "budgets": budgets,
        "platforms": platforms,
        "sources": sources,
        "interrupted_runs": interrupted_runs(db),
    }


def _budgets(db: Database, settings: Settings, sources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each billing platform's reads this calendar month against its budget."""
    from radpulse.collectors.registry import declared_platforms
    from radpulse.collectors.runner import api_units_spent, current_period

    out = {}
    for p in declared_platforms():
        budget = p.monthly_budget(settings)
        if budget is None:
            continue
        spent = api_units_spent(db, p.name)
        exhausted = spent >= budget or any(
            s["platform"] == p.name and s["last_status"] == "budget_exhausted" for s in sources)
        out[p.name] = {
            "label": p.label, "period": current_period(), "spent": spent, "budget": budget, "remaining": max(budget - spent, 0),
            "state": f"exhausted: {p.label} collection stopped until next month or a higher "
                     f"[{p.section}] budget" if exhausted else "ok",
        }
    return out


def _platforms(settings: Settings, sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each declared platform: label, tracked sources and its published rate limit."""
    from radpulse.collectors.registry import declared_platforms

    return [{"platform": p.name, "label": p.label, "social": p.social,
             "sources": sum(1 for s in sources if s["platform"] == p.name and s["last_status"] != "synthetic (demo)"),
             "rate_limit": str(p.rate_limit) if p.rate_limit else None}
            for p in declared_platforms()]
