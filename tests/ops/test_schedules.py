"""The real APScheduler on a controlled clock: each source on its own interval, a failing job
recorded (and the operators told once, then once on recovery) while the others go on."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import time_machine
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

from radpulse.job_states import job_states
from radpulse.records import SourceSpec
from radpulse.scheduler import build_scheduler, shared_database
from radpulse.schedules import job_schedules, source_interval
from tests.conftest import make_settings

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc)
SOURCES = [SourceSpec("x:#Radiology", "x", "hashtag", "#Radiology"), SourceSpec("x:#fail", "x", "hashtag", "#fail"),
           SourceSpec("reddit:r/radiology", "reddit", "subreddit", "radiology"),
           SourceSpec("pubmed:ct", "pubmed", "query", "ct"), SourceSpec("feed:JACR", "feeds", "feed", "https://j/rss")]


def _settings(port: int | None = None, **schedule):  # type: ignore[no-untyped-def]
    data = {"schedule": {"jitter_seconds": 0, **schedule}, "digest": {"enabled": False},
            "alerts": {"spike_enabled": False, "failures_before_alert": 3, "operators": ["ops@example.org"]},
            "refresh": {"deletion_sweep_days": 0}}
    if port:
        data["smtp"] = {"host": "127.0.0.1", "port": port, "from_address": "radpulse@example.org", "retries": 0}
    return make_settings(data)


def test_each_platform_declares_its_interval_and_the_config_overrides_it():
    settings = _settings(source_intervals={"reddit": 45, "x:#fail": 5})
    minutes = {s.name: source_interval(settings, s) for s in SOURCES}
    assert minutes == {"x:#Radiology": 15, "x:#fail": 5, "reddit:r/radiology": 45, "pubmed:ct": 1440, "feed:JACR": 60}
    assert job_schedules(make_settings({"x": {"hashtags": ["#Radiology"]}}))["collect:x:#Radiology"] == "every 15 min"


def test_per_source_jobs_fire_at_their_intervals_and_a_failing_one_is_recorded(tmp_path, monkeypatch, smtp_server):
    inbox, port = smtp_server()
    url = f"sqlite:///{tmp_path / 'r.db'}"
    fired: list[tuple[str, dt.datetime]] = []
    broken = {"x:#fail"}

    def fake_collect(settings, database_url, name, not_before=None):  # type: ignore[no-untyped-def]
        fired.append((name, dt.datetime.now(dt.timezone.utc)))
        if name in broken:
            raise RuntimeError("the API answered 500")
        return {"status": "success", "new": 0}

    monkeypatch.setattr("radpulse.scheduler.collect_source", fake_collect)
    monkeypatch.setattr("radpulse.scheduler.analyze_job", lambda s, u: {"new": 0})
    monkeypatch.setattr("radpulse.scheduler.refresh_job", lambda s, u: {})
    done = threading.Semaphore(0)
    with time_machine.travel(T0, tick=False) as clock:
        scheduler = build_scheduler(_settings(port), url, blocking=False, sources=SOURCES)
        scheduler.add_listener(lambda event: done.release(), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.start(paused=True)  # nothing runs until the clock is set
        try:
            for minute in range(0, 121):
                now = T0 + dt.timedelta(minutes=minute)
                clock.move_to(now)
                due = [j for j in scheduler.get_jobs() if j.next_run_time and j.next_run_time <= now]
                scheduler.resume() if minute == 0 else scheduler.wakeup()
                for _ in due:
                    assert done.acquire(timeout=30), f"job not run at minute {minute}"
                if minute == 45:
                    broken.clear()  # the API is back
        finally:
            scheduler.shutdown(wait=True)
    runs = Counter(name for name, _ in fired)
    # two hours: X every 15 min (0..120 -> 9), Reddit every 30 (5), feeds hourly (3), PubMed daily (1)
    assert runs == {"x:#Radiology": 9, "x:#fail": 9, "reddit:r/radiology": 5, "feed:JACR": 3, "pubmed:ct": 1}
    x_times = [t for name, t in fired if name == "x:#Radiology"]
    assert x_times == [T0 + dt.timedelta(minutes=15 * k) for k in range(9)]
    states = job_states(shared_database(url))
    assert states["collect:x:#Radiology"]["consecutive_failures"] == 0
    assert states["collect:x:#fail"]["last_status"] == "success" and states["collect:x:#fail"]["last_success_at"]
    # failed at 0, 15, 30, 45 (4 in a row, alert at the 3rd), worked from 60 on: one alert, one recovery note
    subjects = [m["Subject"] for m in inbox.messages]
    assert subjects == ["radpulse: collect:x:#fail failed 3 times in a row", "radpulse: collect:x:#fail works again"]
    assert "the API answered 500" in inbox.messages[0].get_content()
