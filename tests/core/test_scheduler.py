"""The real APScheduler drives collection and analysis; a failing job never stops the schedule."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone

from click.testing import CliRunner
from sqlalchemy import func, select

from radpulse.cli.main import cli
from radpulse.collectors import registry
from radpulse.db.engine import open_database
from radpulse.db.models import Annotation, CollectionRun, Post
from radpulse import scheduler as sched
from radpulse.records import Batch
from radpulse.scheduler import JOBS, build_scheduler, run_once
from tests.conftest import make_settings
from tests.core.test_runner import FakeCollector


class XLike(FakeCollector):
    platform = "x"


ONLY_X = {"x": {"hashtags": ["#Radiology"]}, "reddit": {"enabled": False}, "mastodon": {"enabled": False},
          "bluesky": {"enabled": False}, "pubmed": {"enabled": False}, "crossref": {"enabled": False}, "feeds": [],
          "schedule": {"jitter_seconds": 0}}


def wait_for(condition, timeout: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    pause = threading.Event()
    for _ in range(int(timeout / 0.1)):
        if condition():
            return True
        pause.wait(0.1)  # time.sleep is patched in tests; the scheduler runs in its own thread
    return condition()


def test_scheduler_collects_then_analyzes_and_survives_a_failing_job(tmp_path, monkeypatch):
    registry._load()
    monkeypatch.setitem(registry._REGISTRY, "x", XLike)
    url = f"sqlite:///{tmp_path / 'r.db'}"
    db = open_database(url)
    settings = make_settings(ONLY_X)
    failures = []

    def broken_refresh(settings, database_url):  # type: ignore[no-untyped-def]
        failures.append("refresh")
        raise RuntimeError("refresh exploded")

    monkeypatch.setattr("radpulse.scheduler.refresh_job", broken_refresh)
    scheduler = build_scheduler(settings, url, blocking=False)
    assert {j.id for j in scheduler.get_jobs()} == {"collect:x:#Radiology", "refresh", "analyze", "digest", "sweep",
                                                    "alerts"}
    scheduler.start()
    try:
        scheduler.get_job("refresh").modify(next_run_time=datetime.now(timezone.utc))

        def counts():  # type: ignore[no-untyped-def]
            with db.engine.connect() as conn:
                return (conn.execute(select(func.count()).select_from(Post)).scalar(),
                        conn.execute(select(func.count()).select_from(Annotation)).scalar())

        assert wait_for(lambda: counts()[0] == 12 and failures), counts()
        scheduler.get_job("analyze").modify(next_run_time=datetime.now(timezone.utc))
        assert wait_for(lambda: counts()[1] == 12), counts()
        assert scheduler.running and scheduler.get_job("refresh") is not None  # still scheduled
    finally:
        scheduler.shutdown(wait=True)
    with db.engine.connect() as conn:
        assert conn.execute(select(CollectionRun.status)).scalar() == "success"


def test_run_once_from_the_cli(tmp_path, monkeypatch):
    registry._load()
    monkeypatch.setitem(registry._REGISTRY, "x", XLike)
    cfg = tmp_path / "radpulse.toml"
    cfg.write_text('[x]\nhashtags = ["#Radiology"]\n[reddit]\nenabled = false\n[mastodon]\nenabled = false\n'
                   '[bluesky]\nenabled = false\n[pubmed]\nenabled = false\n[crossref]\nenabled = false\n')
    open_database(f"sqlite:///{tmp_path / 'r.db'}").dispose()  # only init and demo create a database
    result = CliRunner().invoke(cli, ["--config", str(cfg), "--database-url", f"sqlite:///{tmp_path / 'r.db'}",
                                      "run", "--once", "--job", "collect", "--job", "analyze"])
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)
    assert outcome["collect"] == {"x:#Radiology": "success"}
    assert outcome["analyze"]["new"] == 12


def test_the_weekly_digest_is_scheduled_on_its_crontab_line(tmp_path):
    import pytest

    from radpulse.errors import ConfigError

    url = f"sqlite:///{tmp_path / 'r.db'}"
    scheduler = build_scheduler(make_settings({"schedule": {"digest_cron": "30 6 * * tue", "timezone": "Europe/Paris"}}),
                                url, blocking=False)
    job = scheduler.get_job("digest")
    first = job.trigger.get_next_fire_time(None, datetime(2026, 11, 28, tzinfo=timezone.utc))
    assert (first.isoformat(), first.tzinfo.key) == ("2026-12-01T06:30:00+01:00", "Europe/Paris")
    off = build_scheduler(make_settings({"digest": {"enabled": False}}), url, blocking=False)
    assert off.get_job("digest") is None and off.get_job("analyze") is not None
    with pytest.raises(ConfigError, match=r"\[schedule\] digest_cron 'every monday' is not a crontab line"):
        build_scheduler(make_settings({"schedule": {"digest_cron": "every monday"}}), url, blocking=False)


class EndlessX(FakeCollector):
    """An X source that never ends: a page every 0.2 s, for ever (a slow or endless source)."""

    platform = "x"

    def collect(self, source, cursor):  # type: ignore[no-untyped-def]
        yield from super().collect(source, cursor)  # 12 posts
        n = 0
        while True:
            threading.Event().wait(0.2)  # time.sleep is patched in tests; Event.wait really waits
            n += 1
            yield Batch(cursor={"page": 3, "tick": n}, fetched=0)


def test_a_job_past_its_budget_is_stopped_recorded_and_later_jobs_run(tmp_path, monkeypatch):
    registry._load()
    monkeypatch.setitem(registry._REGISTRY, "x", EndlessX)
    url = f"sqlite:///{tmp_path / 'r.db'}"
    data = {**ONLY_X, "x": {"hashtags": ["#Radiology", "#RadTwitter"]}, "schedule": {"job_budget_minutes": 1 / 60}}

    def stored(settings, database_url):  # type: ignore[no-untyped-def]
        # a later job that reads what was stored: quick, whatever the load (loading the analysis
        # models alone can spend a one-second budget; a child stopped at its deadline is in
        # tests/ops/test_child_jobs.py)
        with sched.shared_database(database_url).engine.connect() as conn:
            return {"posts": conn.execute(select(func.count()).select_from(Post)).scalar()}

    monkeypatch.setitem(JOBS, "analyze", stored)
    outcome = run_once(make_settings(data), url, ["collect", "analyze"])

    assert outcome["collect"] == {"x:#Radiology": "failed", "x:#RadTwitter": "failed"}
    assert outcome["analyze"] == {"posts": 12}  # the next job ran, on what was stored before the stop
    db = open_database(url)
    with db.engine.connect() as conn:
        runs = conn.execute(select(CollectionRun.source_name, CollectionRun.status, CollectionRun.error,
                                   CollectionRun.cursor_after).order_by(CollectionRun.id)).all()
    assert [(r.source_name, r.status) for r in runs] == [("x:#Radiology", "failed"), ("x:#RadTwitter", "failed")]
    assert all("ran past its time budget" in r.error for r in runs)
    assert runs[0].cursor_after["tick"] >= 1  # pages received before the stop were committed
    db.dispose()


def test_a_job_that_does_not_stop_by_itself_is_recorded_as_failed(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    open_database(url).dispose()
    release = threading.Event()

    def stuck(settings, database_url):  # type: ignore[no-untyped-def]
        release.wait(30)
        return {"done": True}

    monkeypatch.setitem(JOBS, "analyze", stuck)
    monkeypatch.setattr("radpulse.scheduler.GRACE_SECONDS", 0.1)
    settings = make_settings({**ONLY_X, "x": {"enabled": False}, "schedule": {"job_budget_minutes": 0.5 / 60}})
    outcome = run_once(settings, url, ["analyze", "collect"])
    release.set()
    assert outcome["analyze"]["status"] == "failed" and "job_budget_minutes" in outcome["analyze"]["error"]
    assert outcome["collect"] == {}  # the later job ran
    db = open_database(url)
    with db.engine.connect() as conn:
        (run,) = conn.execute(select(CollectionRun.source_name, CollectionRun.task, CollectionRun.status)).all()
    assert tuple(run) == ("job:analyze", "analyze", "failed")
    db.dispose()
