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
    JobState,
    Mention,
    Meta,
    Post,
    PostSource,
    Quarantine,
    SentAlert,
    SentDigest,
    Source,
    Subscriber,
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
        "jobs": job_overview(db, settings),
        "deliveries": deliveries_needing_attention(db),
        "interrupted_runs": interrupted_runs(db),
    }


def deliveries_needing_attention(db: Database) -> list[dict[str, Any]]:
    """Digests and alerts that failed or whose outcome is unknown (maybe delivered, not resent)."""
    out = []
    with db.engine.connect() as conn:
        for kind, model, period in (("digest", SentDigest, SentDigest.period_start), ("alert", SentAlert, SentAlert.day)):
            rows = conn.execute(
                select(Subscriber.email, model.status, model.error, model.message_id, model.sent_at, period.label("period"))
                .join(Subscriber, Subscriber.id == model.subscriber_id)
                .where(model.status.in_(("failed", "unknown"))).order_by(period, Subscriber.email))
            out += [{"kind": kind, "email": r.email, "period": r.period.isoformat(), "status": r.status,
                     "error": r.error, "message_id": r.message_id,
                     "at": r.sent_at.isoformat(timespec="seconds")} for r in rows]
    return out


def job_overview(db: Database, settings: Settings) -> list[dict[str, Any]]:
    """Each scheduled job: its schedule, last run and outcome, last success, failures in a row."""
    from radpulse.schedules import job_schedules

    with db.engine.connect() as conn:
        states = {r.name: r for r in conn.execute(select(JobState))}
    rows = []
    for name, schedule in job_schedules(settings).items():
        st = states.pop(name, None)
        rows.append(_job_row(name, schedule, st))
    rows += [_job_row(name, "not scheduled now", st) for name, st in sorted(states.items())]
    return rows


def _job_row(name: str, schedule: str, st: Any) -> dict[str, Any]:
    def when(value: Any) -> str | None:
        return value.isoformat(timespec="seconds") if value else None

    return {"job": name, "schedule": schedule, "last_run": when(st.last_started_at) if st else None,
            "last_status": st.last_status if st else "never run", "last_success": when(st.last_success_at) if st else None,
            "consecutive_failures": st.consecutive_failures if st else 0, "last_error": st.last_error if st else None}


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
