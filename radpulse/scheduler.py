"""The schedule that drives radpulse, with APScheduler: each source on its own interval, analysis
after collections that add posts, engagement refresh, the daily deletion sweep, the weekly
digest and the daily spike alerts (cron lines in the configured time zone).

Every job runs under its lock (radpulse/locks.py): on PostgreSQL any number of processes share
the work and never run one job (one source's collection, analyze, the digest) twice at once; on
SQLite one process runs. Each job records its outcome in `job_states` (status, /healthz, operator
alerts) and never lets one failure stop the scheduler. Jobs never overlap themselves and missed
runs are coalesced into one. When `STOP` is set (SIGTERM, SIGINT) a collection stops after the
batch it is storing; the next start continues from the cursors.

Every job has a time budget (`[schedule] job_budget_minutes`). Collection checks it after each
stored batch and before each source (every request has its own deadline, so a check is always
reached): the run in flight ends "failed" with the reason and the sources not reached are
recorded the same way. A job that still has not returned a grace period after its budget
(analysis or the digest, which are local work) is recorded as failed and left to finish in the
background, and the scheduler goes on with the next jobs.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from radpulse.config import Settings
from radpulse.db.engine import Database, open_database
from radpulse.errors import ConfigError, JobFailed, JobStopped, JobTimeout
from radpulse.locks import job_lock
from radpulse.records import SourceSpec, utcnow
from radpulse.schedules import collect_job_name, source_interval

log = logging.getLogger(__name__)

#: set to stop: collections end after the batch being stored, no new job starts
STOP = threading.Event()
Job = Callable[[Settings, str], dict[str, Any]]
_DATABASES: dict[str, Database] = {}
_DB_GUARD = threading.Lock()


def shared_database(url: str) -> Database:
    """One opened database (one connection pool) per URL for every job of this process."""
    with _DB_GUARD:
        if url not in _DATABASES:
            _DATABASES[url] = open_database(url)
        return _DATABASES[url]


def close_databases() -> None:
    with _DB_GUARD:
        for db in _DATABASES.values():
            db.dispose()
        _DATABASES.clear()


def synced_sources(db: Database, settings: Settings) -> list[SourceSpec]:
    """`sync_sources` by one process at a time (two at once would both insert a new source)."""
    from radpulse.sources import sync_sources

    for _ in range(600):
        with job_lock(db, "sync-sources") as got:
            if got:
                try:
                    return sync_sources(db, settings)
                except IntegrityError:  # a `radpulse collect` added it meanwhile: read again
                    continue
        threading.Event().wait(0.05)
    return sync_sources(db, settings)


def _until_stopped(batches: Iterator[Any], stopped: list[bool]) -> Iterator[Any]:
    """The collector's batches until `STOP` is set: the batch in hand is still stored (with its
    cursor), then the collector's generator is closed, so the next run continues from there."""
    for batch in batches:
        yield batch
        if STOP.is_set():
            stopped.append(True)
            return


def _collect_until_stopped(db: Database, settings: Settings, spec: SourceSpec, after_batch: Any,
                           refresh: bool = True) -> Any:
    """`collect_sources` for one source, ending after the batch in hand when radpulse is stopped;
    a stopped run is recorded as 'stopped' (not a failure: the next start continues it). With
    `refresh`, the rollups of the days it marked are refreshed (unless another process is at it)."""
    from radpulse.collectors.registry import get_collector
    from radpulse.collectors.runner import (check_budget, collect_sources, finish_run, mark_interrupted_runs,
                                            run_source)
    from radpulse.db.rollups import refresh_stale_rollups

    collector = None
    try:
        collector = get_collector(spec.platform)(settings)
        check_budget(spec.name)
    except Exception:  # noqa: BLE001 - collect_sources records why, per source
        if collector is not None:
            collector.close()
        [summary] = collect_sources(db, settings, [spec], after_batch=after_batch)
        return summary
    mark_interrupted_runs(db)
    stopped: list[bool] = []
    inner = collector.collect
    collector.collect = lambda source, cursor: _until_stopped(inner(source, cursor), stopped)  # type: ignore[method-assign]
    try:
        summary = run_source(db, collector, spec, after_batch=after_batch)
    finally:
        collector.close()
    if stopped and summary.status in ("success", "warning"):
        summary.status, summary.error = "stopped", STOPPED_NOTE
        finish_run(db, summary)
    if refresh:  # another process refreshing takes these days, or the next refresh
        refresh_stale_rollups(db, wait=False)
    return summary


STOPPED_NOTE = "stopped (SIGTERM or SIGINT) after storing the batch in hand; the next run continues from the cursor"


def collect_source(settings: Settings, url: str, name: str, not_before: dt.datetime | None = None,
                   refresh: bool = True) -> dict[str, Any]:
    """Collect source `name` unless another process holds it or collected it since `not_before`;
    `refresh=False` leaves the rollups to the caller (a job collecting many sources)."""
    from radpulse.db.models import CollectionRun, Source
    from radpulse.sources import spec_of

    from radpulse.collection import after_batch_steps

    if STOP.is_set():  # queued before the stop: left for the next start
        return {"status": "skipped", "reason": "radpulse is stopping"}
    db = shared_database(url)
    with job_lock(db, f"collect:{name}") as got:
        if not got:
            return {"status": "skipped", "reason": "another process is collecting it"}
        with db.session() as s:
            if not_before is not None and s.scalar(select(exists().where(
                    CollectionRun.source_name == name, CollectionRun.task == "collect",
                    CollectionRun.started_at >= not_before,
                    CollectionRun.status.not_in(("running", "stopped", "interrupted"))))):
                return {"status": "skipped", "reason": "collected by another process"}
            row = s.scalar(select(Source).where(Source.name == name, Source.enabled.is_(True)))
            spec = spec_of(row) if row is not None else None
        if spec is None:  # not in the sources table yet: the config is the truth
            spec = next((s for s in synced_sources(db, settings) if s.name == name), None)
            if spec is None:
                return {"status": "skipped", "reason": "no longer tracked"}
        summary = _collect_until_stopped(db, settings, spec, after_batch_steps(), refresh)
    return {"status": summary.status, "new": summary.new, "fetched": summary.fetched, "error": summary.error}



def collect_job(settings: Settings, database_url: str) -> dict[str, Any]:
    """Collect every enabled source once, leaving to others the sources another process is
    collecting or collected within half its interval; then the Crossref enrichment job. The
    rollups are refreshed once, at the end (as `radpulse collect` does)."""
    from radpulse.db.rollups import refresh_stale_rollups

    db = shared_database(database_url)
    out = {}
    for spec in synced_sources(db, settings):
        if STOP.is_set():
            break
        half = dt.timedelta(minutes=source_interval(settings, spec) / 2)
        out[spec.name] = collect_source(settings, database_url, spec.name, not_before=utcnow() - half,
                                        refresh=False)["status"]
    if settings.crossref.enabled and not STOP.is_set():
        out["crossref:enrich"] = enrich_job(settings, database_url).get("status")
    refresh_stale_rollups(db)
    return out


def _locked(name: str, work: Callable[[Database, Settings], dict[str, Any]], *, in_child: bool = False) -> Job:
    """The job `name`: `work` under its lock; with `in_child`, in a child process (the heavy jobs)."""
    def job(settings: Settings, database_url: str) -> dict[str, Any]:
        db = shared_database(database_url)
        with job_lock(db, name) as got:
            if not got:
                return {"status": "skipped", "reason": "another process is running it"}
            if in_child:
                return _in_child(name, work, settings, database_url)
            return work(db, settings)

    job.__name__ = f"{name}_job"
    return job


def _in_child(name: str, work: Callable[[Database, Settings], dict[str, Any]], settings: Settings,
              url: str) -> dict[str, Any]:
    """`work` in a child process (radpulse/child_jobs.py) while this process holds its lock: the
    analysis models, pandas and scikit-learn never load into the long-running scheduler. A stop
    ends the child (its transaction rolls back); a failure there raises JobFailed here."""
    from radpulse.child_jobs import run_in_child, with_database
    from radpulse.collectors.runner import JOB_DEADLINE

    try:
        return run_in_child(name, with_database, work, url, settings, stop=STOP, deadline=JOB_DEADLINE.get())
    except JobStopped as exc:
        return {"status": "stopped", "error": str(exc)}


def _refresh(db: Database, settings: Settings) -> dict[str, Any]:
    from radpulse.collection import refresh
    from radpulse.collectors.registry import social_platforms

    platforms = sorted({s.platform for s in synced_sources(db, settings)} & set(social_platforms()))
    return {r.source: r.status for r in refresh(db, settings, platforms)}


def _enrich(db: Database, settings: Settings) -> dict[str, Any]:
    """Crossref enrichment of stored articles: a job of its own, with its own run record."""
    from radpulse.collection import after_batch_steps
    from radpulse.collectors.crossref import enrich_articles

    r = enrich_articles(db, settings, after_batch=after_batch_steps())
    return {"status": r.status, "fetched": r.fetched, "updated": r.updated, "error": r.error}


def _sweep(db: Database, settings: Settings) -> dict[str, Any]:
    from radpulse.collection import after_batch_steps
    from radpulse.collectors.deletion_sweep import SWEPT_PLATFORMS, sweep_deletions

    platforms = sorted({s.platform for s in synced_sources(db, settings)} & set(SWEPT_PLATFORMS))
    return {r.source: r.status for r in sweep_deletions(db, settings, platforms, after_batch=after_batch_steps())}


def _analyze(db: Database, settings: Settings) -> dict[str, Any]:
    from radpulse.analysis.store import analyze

    r = analyze(db)
    return {"new": r.new, "changed": r.changed, "outdated": r.outdated, "authors": r.authors}


def _digest(db: Database, settings: Settings) -> dict[str, Any]:
    from radpulse.digest import send_digests

    r = send_digests(db, settings)
    return {"week": r.start.isoformat(), "sent": len(r.sent), "already_sent": len(r.skipped), "failed": len(r.failed),
            "unknown": len(r.unknown), **({"status": "failed", "error": "; ".join(r.failed.values())} if r.failed else {})}


def _alerts(db: Database, settings: Settings) -> dict[str, Any]:
    from radpulse.alerts.delivery import send_alerts

    r = send_alerts(db, settings)
    return {"sent": len(r.sent), "subjects": len(r.spikes), "failed": len(r.failed),
            **({"status": "failed", "error": "; ".join(r.failed.values())} if r.failed else {})}


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
        if isinstance(result["error"], JobTimeout):  # a child stopped at the deadline: recorded the same way
            record_job_failure(url, name, str(result["error"]))
        raise result["error"]
    return result["outcome"]


refresh_job, sweep_job, enrich_job = _locked("refresh", _refresh), _locked("sweep", _sweep), _locked("enrich", _enrich)
#: analysis, the digest and the spike alerts load pandas, scikit-learn and the models: child processes
analyze_job, digest_job = _locked("analyze", _analyze, in_child=True), _locked("digest", _digest, in_child=True)
alerts_job = _locked("alerts", _alerts, in_child=True)

JOBS: dict[str, Job] = {"collect": collect_job, "refresh": refresh_job, "analyze": analyze_job}
ON_DEMAND: dict[str, Job] = {"digest": digest_job, "sweep": sweep_job, "alerts": alerts_job}


class CollectSource:
    """The scheduled job of one source: collect it unless another process did within half its interval."""

    def __init__(self, name: str, minutes: int) -> None:
        self.name, self.minutes = name, minutes

    def __call__(self, settings: Settings, url: str) -> dict[str, Any]:
        return collect_source(settings, url, self.name, not_before=utcnow() - dt.timedelta(minutes=self.minutes / 2))


def run_job(name: str, job: Job, settings: Settings, url: str, scheduler: BaseScheduler | None = None) -> dict[str, Any]:
    """Run one job, record its outcome in `job_states`, tell the operators when it keeps failing."""
    from radpulse.job_states import record_finish, record_start

    if STOP.is_set():  # queued in the executor before the stop: left for the next start
        return {"status": "skipped", "reason": "radpulse is stopping"}
    db = shared_database(url)
    record_start(db, name, _HOLDER)
    try:
        outcome = within_budget(name, job, settings, url)
    except Exception as exc:  # noqa: BLE001 - a failed run is recorded; the schedule goes on
        if isinstance(exc, JobFailed):  # names the child's exception; its traceback is logged already
            log.warning("radpulse %s failed: %s; the next run is still scheduled", name, exc)
            outcome = {"status": "failed", "error": str(exc)}
        else:
            log.exception("radpulse %s failed; the next run is still scheduled", name)
            outcome = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    status = outcome.get("status")
    if status not in ("skipped", "stopped"):  # a stop is neither a success nor a failure
        ok = status in (None, "success", "warning")
        change = record_finish(db, name, ok, outcome.get("error"), alert_after=settings.alerts.failures_before_alert)
        if change:
            _tell_operators(settings, name, change, outcome.get("error"))
    log.warning("radpulse %s finished: %s", name, outcome)
    if scheduler is not None and name.startswith("collect:") and outcome.get("new") and not STOP.is_set():
        job_ = scheduler.get_job("analyze")  # analysis after every collection that added posts
        if job_ is not None:
            job_.modify(next_run_time=dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2))
    return outcome


def _tell_operators(settings: Settings, name: str, change: str, error: str | None) -> None:
    """Email the operators that job `name` is failing or works again, from a child process (the
    mail code loads the digest package, and with it pandas and scikit-learn)."""
    from radpulse.alerts.operators import notify_operators
    from radpulse.child_jobs import run_in_child

    if not settings.alerts.operators:
        return
    try:
        run_in_child("operator-alert", notify_operators, settings, name, change, error, stop=STOP)
    except (JobFailed, JobStopped) as exc:
        log.warning("the operators were not told that %s is %s: %s", name, change, exc)


_HOLDER = ""


def process_name() -> str:
    """This process in `job_states.holder`: host and PID (as radpulse.digest.claims.new_holder,
    which is not imported here: radpulse.digest pulls in the analysis models, pandas and
    scikit-learn, ~200 MB that an idle scheduler does not need)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def build_scheduler(settings: Settings, database_url: str, *, blocking: bool = True,
                    sources: list[SourceSpec] | None = None) -> BaseScheduler:
    """A scheduler with one collection job per source and the analyze, refresh, sweep, digest and alert jobs."""
    from radpulse.sources import expand_sources

    global _HOLDER
    _HOLDER = _HOLDER or process_name()
    cls = BlockingScheduler if blocking else BackgroundScheduler
    tz = settings.schedule.timezone
    scheduler = cls(timezone=tz, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300})
    now = dt.datetime.now(dt.timezone.utc)
    jitter = settings.schedule.jitter_seconds

    def add(name: str, job: Job, trigger: Any, first: dt.datetime | None = None) -> None:
        scheduler.add_job(run_job, trigger, args=(name, job, settings, database_url, scheduler), id=name, name=name,
                          **({"next_run_time": first} if first else {}))

    for spec in sources if sources is not None else expand_sources(settings):
        minutes = source_interval(settings, spec)
        add(collect_job_name(spec), CollectSource(spec.name, minutes),
            IntervalTrigger(minutes=minutes, jitter=jitter or None, timezone=tz),
            now + dt.timedelta(seconds=random.uniform(0, jitter)))  # noqa: S311 - spreading, not secrecy
    add("analyze", analyze_job, IntervalTrigger(minutes=settings.schedule.analyze_every_minutes, timezone=tz),
        now + dt.timedelta(seconds=5))
    add("refresh", refresh_job, IntervalTrigger(hours=settings.schedule.refresh_every_hours, timezone=tz))
    if settings.crossref.enabled:  # enrichment of articles the collections brought, at the default interval
        add("enrich", enrich_job, IntervalTrigger(minutes=settings.schedule.collect_every_minutes, timezone=tz),
            now + dt.timedelta(seconds=60))
    if settings.refresh.deletion_sweep_days > 0:  # daily, first after a day: one batch per platform each time
        add("sweep", sweep_job, IntervalTrigger(days=1, timezone=tz))
    if settings.digest.enabled:
        add("digest", digest_job, _cron(settings.schedule.digest_cron, tz, "[schedule] digest_cron", "0 7 * * mon"))
    if settings.alerts.spike_enabled:
        add("alerts", alerts_job, _cron(settings.alerts.alerts_cron, tz, "[alerts] alerts_cron", "0 8 * * *"))
    return scheduler


def _cron(line: str, tz: str, key: str, example: str) -> CronTrigger:
    try:
        return CronTrigger.from_crontab(line, timezone=tz)
    except ValueError as exc:
        raise ConfigError(f"{key} {line!r} is not a crontab line ({exc})",
                          hint=f'Use five fields, e.g. "{example}".') from None


def run_once(settings: Settings, database_url: str, jobs: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Run the jobs once, in order (for cron or a container's one-shot run); the digest, the
    deletion sweep and the alerts only when named. Several processes share the sources. Each job
    has its time budget; one that overruns is recorded and the later jobs still run."""
    every = {**JOBS, **ON_DEMAND}
    outcomes: dict[str, dict[str, Any]] = {}
    for name in jobs or list(JOBS):
        if STOP.is_set():
            break
        try:
            outcomes[name] = within_budget(name, every[name], settings, database_url)
        except JobTimeout as exc:  # recorded; the later jobs still run
            outcomes[name] = {"status": "failed", "error": str(exc)}
    return outcomes
