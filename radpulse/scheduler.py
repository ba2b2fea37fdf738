"""The schedule that drives radpulse: collect, refresh engagement and analyze, with APScheduler;
the weekly digest at `digest_cron` and the daily deletion sweep of older posts.

Each job opens the database, does its work through the same functions as the CLI, records
what happened (collection runs are in the database) and never lets one failure stop the
scheduler. Jobs never overlap themselves and missed runs are coalesced into one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from radpulse.config import Settings
from radpulse.db.engine import open_database
from radpulse.errors import ConfigError

log = logging.getLogger(__name__)


def collect_job(settings: Settings, database_url: str) -> dict[str, Any]:
    """Collect every enabled source; a summary of the statuses."""
    from radpulse.collectors.runner import collect_sources
    from radpulse.sources import sync_sources

    db = open_database(database_url)
    try:
        results = collect_sources(db, settings, sync_sources(db, settings))
    finally:
        db.dispose()
    return {r.source: r.status for r in results}


def refresh_job(settings: Settings, database_url: str) -> dict[str, Any]:
    """Re-read engagement of recent posts on every platform with tracked sources."""
    from radpulse.collectors.registry import social_platforms
    from radpulse.collectors.runner import refresh_platforms
    from radpulse.sources import sync_sources

    db = open_database(database_url)
    try:
        platforms = sorted({s.platform for s in sync_sources(db, settings)} & set(social_platforms()))
        results = refresh_platforms(db, settings, platforms)
    finally:
        db.dispose()
    return {r.source: r.status for r in results}


def sweep_job(settings: Settings, database_url: str) -> dict[str, Any]:
    """Re-check one batch of older posts per platform for deletion at the source."""
    from radpulse.collectors.deletion_sweep import SWEPT_PLATFORMS, sweep_deletions
    from radpulse.sources import sync_sources

    db = open_database(database_url)
    try:
        platforms = sorted({s.platform for s in sync_sources(db, settings)} & set(SWEPT_PLATFORMS))
        results = sweep_deletions(db, settings, platforms)
    finally:
        db.dispose()
    return {r.source: r.status for r in results}


def analyze_job(settings: Settings, database_url: str) -> dict[str, Any]:
    """Annotate posts that are new, changed or annotated by an older model."""
    from radpulse.analysis.store import analyze

    db = open_database(database_url)
    try:
        result = analyze(db)
    finally:
        db.dispose()
    return {"new": result.new, "changed": result.changed, "outdated": result.outdated, "authors": result.authors}


def digest_job(settings: Settings, database_url: str) -> dict[str, Any]:
    """Send the last full week's digest to the subscribers who have not had it."""
    from radpulse.digest import send_digests

    db = open_database(database_url)
    try:
        result = send_digests(db, settings)
    finally:
        db.dispose()
    return {"week": result.start.isoformat(), "sent": len(result.sent), "already_sent": len(result.skipped),
            "failed": len(result.failed)}


JOBS: dict[str, Callable[[Settings, str], dict[str, Any]]] = {
    "collect": collect_job,
    "refresh": refresh_job,
    "analyze": analyze_job,
}


def _safe(name: str, job: Callable[[Settings, str], dict[str, Any]], settings: Settings, url: str) -> None:
    try:
        outcome = job(settings, url)
        log.warning("radpulse %s finished: %s", name, outcome)
    except Exception:  # noqa: BLE001 - a failed run is logged; the schedule goes on
        log.exception("radpulse %s failed; the next run is still scheduled", name)


def build_scheduler(settings: Settings, database_url: str, *, blocking: bool = True) -> BaseScheduler:
    """A scheduler with the collect, refresh and analyze jobs at the configured intervals."""
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(timezone=settings.schedule.timezone,
                    job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300})
    every = {
        "collect": IntervalTrigger(minutes=settings.schedule.collect_every_minutes),
        "refresh": IntervalTrigger(hours=settings.schedule.refresh_every_hours),
        "analyze": IntervalTrigger(minutes=settings.schedule.analyze_every_minutes),
    }
    now = datetime.now(timezone.utc)
    first = {"collect": now, "analyze": now + timedelta(seconds=5), "refresh": None}  # refresh: after an interval
    for name, job in JOBS.items():
        scheduler.add_job(_safe, every[name], args=(name, job, settings, database_url), id=name, name=name,
                          **({"next_run_time": first[name]} if first[name] else {}))
    if settings.digest.enabled:
        try:
            weekly = CronTrigger.from_crontab(settings.schedule.digest_cron, timezone=settings.schedule.timezone)
        except ValueError as exc:
            raise ConfigError(f"[schedule] digest_cron {settings.schedule.digest_cron!r} is not a crontab line ({exc})",
                              hint='Use five fields, e.g. "0 7 * * mon" for Mondays at 07:00.') from None
        scheduler.add_job(_safe, weekly, args=("digest", digest_job, settings, database_url), id="digest", name="digest")
    if settings.refresh.deletion_sweep_days > 0:  # daily, first after a day: one batch per platform each time
        scheduler.add_job(_safe, IntervalTrigger(days=1), args=("sweep", sweep_job, settings, database_url),
                          id="sweep", name="sweep")
    return scheduler


def run_once(settings: Settings, database_url: str, jobs: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Run the jobs once, in order (for cron or a container's one-shot run); the digest and the
    deletion sweep only when named (cron them daily or weekly, not with every collection)."""
    every = {**JOBS, "digest": digest_job, "sweep": sweep_job}
    return {name: every[name](settings, database_url) for name in (jobs or list(JOBS))}
