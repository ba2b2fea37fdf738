"""The schedule that drives radpulse: collect, refresh engagement and analyze, with APScheduler;
the weekly digest at `digest_cron` and the daily deletion sweep of older posts.

Each job opens the database, does its work through the same functions as the CLI, records
what happened (collection runs are in the database) and never lets one failure stop the
scheduler. Jobs never overlap themselves and missed runs are coalesced into one.

Every job has a time budget (`[schedule] job_budget_minutes`). Collection checks it after each
stored batch and before each source (every request has its own deadline, so a check is always
reached): the run in flight ends "failed" with the reason and the sources not reached are
recorded the same way. A job that still has not returned a grace period after its budget
(analysis or the digest, which are local work) is recorded as failed and left to finish in the
background, and the scheduler goes on with the next jobs.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
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
from radpulse.errors import ConfigError, JobTimeout

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


#: how long past its budget a job may take to stop by itself before it is recorded as overrun
GRACE_SECONDS = 60.0


def within_budget(name: str, job: Callable[[Settings, str], dict[str, Any]], settings: Settings,
                  url: str) -> dict[str, Any]:
    """Run `job` in a worker thread with the time budget set; its outcome, or the failure recorded."""
    from radpulse.collectors.runner import JOB_DEADLINE, record_job_failure

    budget = settings.schedule.job_budget_minutes * 60
    context = contextvars.copy_context()
    context.run(JOB_DEADLINE.set, time.monotonic() + budget)
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["outcome"] = job(settings, url)
        except BaseException as exc:  # noqa: BLE001 - handed to the scheduler's thread
            result["error"] = exc

    worker = threading.Thread(target=context.run, args=(work,), name=f"radpulse-{name}", daemon=True)
    worker.start()
    worker.join(budget + min(GRACE_SECONDS, budget))
    if worker.is_alive():
        reason = (f"the {name} job was still running {budget / 60:g} minute(s) after it started (its "
                  "[schedule] job_budget_minutes); recorded as failed, the next jobs go on")
        record_job_failure(url, name, reason)
        raise JobTimeout(reason)
    if "error" in result:
        raise result["error"]
    return result["outcome"]


def _safe(name: str, job: Callable[[Settings, str], dict[str, Any]], settings: Settings, url: str) -> None:
    try:
        outcome = within_budget(name, job, settings, url)
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
    deletion sweep only when named (cron them daily or weekly, not with every collection).
    Each job has its time budget; one that overruns is recorded and the later jobs still run."""
    every = {**JOBS, "digest": digest_job, "sweep": sweep_job}
    outcomes: dict[str, dict[str, Any]] = {}
    for name in jobs or list(JOBS):
        try:
            outcomes[name] = within_budget(name, every[name], settings, database_url)
        except JobTimeout as exc:  # recorded; the later jobs still run
            outcomes[name] = {"status": "failed", "error": str(exc)}
    return outcomes
