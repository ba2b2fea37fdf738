"""`/healthz` and `/metrics` of a running `radpulse run`, on `[health] host:port` (127.0.0.1).

/healthz answers 200 with JSON when the scheduler runs and the database answers, else 503;
it lists every job's next run, last run, outcome and failures in a row. /metrics is Prometheus'
text format (prometheus_client): posts stored per platform, collection runs failed, billable
reads left this month, jobs' lag behind their schedule and posts waiting for analysis.
Served by the standard library's WSGI server on a thread of its own.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import orjson
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select, text

from radpulse.config import Settings
from radpulse.db.engine import Database


def health(db: Database, scheduler: Any) -> tuple[bool, dict[str, Any]]:
    """(healthy, report): the scheduler is running and the database answers."""
    from radpulse.job_states import job_states

    report: dict[str, Any] = {"scheduler": "running" if scheduler.running else "stopped"}
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        states = job_states(db)
        report["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        report["database"], states = f"unreachable: {type(exc).__name__}", {}
    jobs = {}
    for job in scheduler.get_jobs():
        st = states.get(job.id, {})
        jobs[job.id] = {"next_run": job.next_run_time.isoformat() if job.next_run_time else None,
                        "last_run": _iso(st.get("last_started_at")), "last_status": st.get("last_status"),
                        "consecutive_failures": st.get("consecutive_failures", 0)}
    report["jobs"] = jobs
    return scheduler.running and report["database"] == "ok", report


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


class RadpulseMetrics:
    """A prometheus_client collector reading the database at each scrape."""

    def __init__(self, db: Database, settings: Settings, scheduler: Any) -> None:
        self.db, self.settings, self.scheduler = db, settings, scheduler

    def collect(self):  # type: ignore[no-untyped-def]
        from radpulse.collectors.registry import declared_platforms
        from radpulse.collectors.runner import api_units_spent
        from radpulse.db.models import Annotation, CollectionRun, Post

        with self.db.engine.connect() as conn:
            posts = conn.execute(select(Post.platform, func.count()).group_by(Post.platform)).all()
            failed = conn.execute(select(CollectionRun.source_name, func.count())
                                  .where(CollectionRun.status.not_in(("success", "warning", "running", "stopped")))
                                  .group_by(CollectionRun.source_name)).all()
            waiting = conn.execute(select(func.count()).select_from(Post).where(
                ~select(Annotation.id).where(Annotation.post_id == Post.id).exists())).scalar()
        g = GaugeMetricFamily("radpulse_posts_stored", "Posts stored, per platform", labels=["platform"])
        for platform, n in posts:
            g.add_metric([platform], n)
        yield g
        g = GaugeMetricFamily("radpulse_collection_runs_failed", "Collection runs that failed, per source",
                              labels=["source"])
        for source, n in failed:
            g.add_metric([source], n)
        yield g
        g = GaugeMetricFamily("radpulse_api_budget_remaining", "Billable reads left this month", labels=["platform"])
        for p in declared_platforms():
            budget = p.monthly_budget(self.settings)
            if budget is not None:
                g.add_metric([p.name], max(budget - api_units_spent(self.db, p.name), 0))
        yield g
        yield GaugeMetricFamily("radpulse_posts_awaiting_analysis", "Posts not annotated yet", value=waiting or 0)
        g = GaugeMetricFamily("radpulse_job_lag_seconds", "How late each job is against its schedule", labels=["job"])
        now = dt.datetime.now(dt.timezone.utc)
        for job in self.scheduler.get_jobs():
            if job.next_run_time is not None:
                g.add_metric([job.id], max((now - job.next_run_time).total_seconds(), 0.0))
        yield g


def make_app(db: Database, settings: Settings, scheduler: Any):  # type: ignore[no-untyped-def]
    """The WSGI application serving /healthz and /metrics."""
    registry = CollectorRegistry()
    registry.register(RadpulseMetrics(db, settings, scheduler))

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            ok, report = health(db, scheduler)
            body = orjson.dumps(report, option=orjson.OPT_INDENT_2)
            start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "application/json")])
            return [body]
        if path == "/metrics":
            body = generate_latest(registry)
            start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
            return [body]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"radpulse serves /healthz and /metrics here\n"]

    return app


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


def serve_health(db: Database, settings: Settings, scheduler: Any) -> WSGIServer | None:
    """Serve /healthz and /metrics on a daemon thread (None when `[health] port` is 0)."""
    if settings.health.port == 0:
        return None
    server = make_server(settings.health.host, settings.health.port, make_app(db, settings, scheduler),
                         handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="radpulse-health", daemon=True).start()
    return server
