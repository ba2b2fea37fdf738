"""/healthz and /metrics served as `radpulse run` serves them (serve_health on the real
scheduler), read over loopback HTTP: job outcomes, the database and the scheduler's state, and
Prometheus text parsed by prometheus_client's own parser."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from radpulse.records import PostRecord, SourceSpec
from radpulse.collectors.runner import current_period
from radpulse.db.engine import Database
from radpulse.db.models import ApiUsage, CollectionRun
from radpulse.db.store import upsert_posts
from radpulse.health import serve_health
from radpulse.scheduler import build_scheduler, run_job
from tests.conftest import make_settings
from tests.digest.digest_helpers import free_port

SOURCES = [SourceSpec("x:#ok", "x", "hashtag", "#ok"), SourceSpec("x:#broken", "x", "hashtag", "#broken")]
BUDGET, SPENT = 10_000, 1_234


def _settings(port: int):  # type: ignore[no-untyped-def]
    return make_settings({"schedule": {"jitter_seconds": 0}, "digest": {"enabled": False},
                          "alerts": {"spike_enabled": False}, "refresh": {"deletion_sweep_days": 0},
                          "health": {"port": port}, "x": {"monthly_read_budget": BUDGET}})


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture
def running(db, db_url):  # type: ignore[no-untyped-def]
    """(settings, scheduler, port): a paused scheduler (nothing fires by itself) and its health server."""
    port = free_port()
    settings = _settings(port)
    scheduler = build_scheduler(settings, db_url, blocking=False, sources=SOURCES)
    scheduler.start(paused=True)
    server = serve_health(db, settings, scheduler)
    yield settings, scheduler, port
    server.shutdown()
    server.server_close()
    if scheduler.running:
        scheduler.shutdown(wait=False)


def _boom(settings, url):  # type: ignore[no-untyped-def]
    raise RuntimeError("the API answered 500")


def test_healthz_lists_each_jobs_last_run_and_outcome(db, db_url, running):
    settings, scheduler, port = running
    run_job("collect:x:#ok", lambda s, u: {"status": "success", "new": 0}, settings, db_url)
    run_job("collect:x:#broken", _boom, settings, db_url)
    run_job("collect:x:#broken", _boom, settings, db_url)
    status, body = _get(port, "/healthz")
    assert status == 200, body
    report = json.loads(body)
    assert report["scheduler"] == "running" and report["database"] == "ok"
    jobs = report["jobs"]
    assert set(jobs) >= {"collect:x:#ok", "collect:x:#broken", "analyze", "refresh"}  # every scheduled job
    assert jobs["collect:x:#ok"]["last_status"] == "success" and jobs["collect:x:#ok"]["consecutive_failures"] == 0
    assert jobs["collect:x:#broken"]["last_status"] == "failed" and jobs["collect:x:#broken"]["consecutive_failures"] == 2
    last = dt.datetime.fromisoformat(jobs["collect:x:#ok"]["last_run"])
    assert abs(last.replace(tzinfo=last.tzinfo or dt.timezone.utc) - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=1)
    assert jobs["analyze"]["last_run"] is None and jobs["analyze"]["next_run"]  # scheduled, never run
    assert _get(port, "/elsewhere")[0] == 404


def test_healthz_is_503_when_the_scheduler_is_dead(running):
    _, scheduler, port = running
    assert _get(port, "/healthz")[0] == 200
    scheduler.shutdown(wait=False)
    status, body = _get(port, "/healthz")
    assert status == 503 and json.loads(body)["scheduler"] == "stopped"


def test_healthz_is_503_when_the_database_is_unreachable(db, db_url, tmp_path):
    # the same kind of database, at an address where nothing answers
    dead_url = ("postgresql+psycopg://postgres@127.0.0.1:1/radpulse" if db.dialect == "postgresql"
                else f"sqlite:///{tmp_path / 'no-such-dir' / 'r.db'}")
    engine = create_engine(dead_url, connect_args={"connect_timeout": 2} if db.dialect == "postgresql" else {})
    dead = Database(dead_url, engine, sessionmaker(engine))
    port = free_port()
    settings = _settings(port)
    scheduler = build_scheduler(settings, db_url, blocking=False, sources=SOURCES)
    scheduler.start(paused=True)
    server = serve_health(dead, settings, scheduler)
    try:
        status, body = _get(port, "/healthz")
    finally:
        server.shutdown()
        server.server_close()
        scheduler.shutdown(wait=False)
        engine.dispose()
    report = json.loads(body)
    assert status == 503 and report["database"].startswith("unreachable") and report["scheduler"] == "running"
    assert set(report["jobs"]) >= {"collect:x:#ok", "analyze"}  # still says what is scheduled


def test_metrics_parse_as_prometheus_text_with_the_figures_of_the_database(db, db_url, running):
    settings, scheduler, port = running
    t = dt.datetime(2026, 11, 20, 12, tzinfo=dt.timezone.utc)
    with db.engine.begin() as conn:
        upsert_posts(conn, [PostRecord("x", f"x{k}", "ct", t) for k in range(3)]
                     + [PostRecord("reddit", f"r{k}", "mri", t) for k in range(2)])
        conn.execute(ApiUsage.__table__.insert(), [{"platform": "x", "period": current_period(), "units": SPENT}])
        conn.execute(CollectionRun.__table__.insert(), [
            {"source_name": "x:#broken", "task": "collect", "started_at": t, "status": status}
            for status in ("failed", "failed", "success", "rate_limited", "stopped", "running")])
    status, body = _get(port, "/metrics")
    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(body)}
    samples = {name: {tuple(sorted(s.labels.items())): s.value for s in f.samples} for name, f in families.items()}
    assert samples["radpulse_posts_stored"] == {(("platform", "reddit"),): 2.0, (("platform", "x"),): 3.0}
    assert samples["radpulse_collection_runs_failed"] == {(("source", "x:#broken"),): 3.0}
    assert samples["radpulse_api_budget_remaining"][(("platform", "x"),)] == BUDGET - SPENT
    assert samples["radpulse_posts_awaiting_analysis"] == {(): 5.0}
    lag = samples["radpulse_job_lag_seconds"]
    # the scheduler is paused: the jobs due at start are late, and by no more than this test has run
    assert set(lag) >= {(("job", "collect:x:#ok"),), (("job", "analyze"),)}
    assert 0 < lag[(("job", "collect:x:#ok"),)] < 600
    assert lag[(("job", "refresh"),)] == 0.0  # not due yet
