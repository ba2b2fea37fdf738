"""Spike alerts: a crafted spike makes one alert per opted-in subscriber; a rerun that day makes none."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner

from radpulse.alerts.delivery import send_alerts
from radpulse.alerts.spikes import find_spikes, robust_z
from radpulse.cli.main import cli
from radpulse.db.store import upsert_posts
from radpulse.digest import add_subscriber
from radpulse.records import PostRecord
from tests.digest.digest_helpers import settings_for

DAY = dt.date(2026, 11, 20)


def _seed(db) -> None:  # type: ignore[no-untyped-def]
    posts = []
    for back in range(1, 29):  # 28 quiet days: 1 or 2 posts a day about #mri, 3 about #ct
        day = dt.datetime.combine(DAY - dt.timedelta(days=back), dt.time(12), dt.timezone.utc)
        posts += [PostRecord("x", f"mri-{back}-{k}", "mri talk", day, hashtags=["mri"]) for k in range(1 + back % 2)]
        posts += [PostRecord("x", f"ct-{back}-{k}", "ct talk", day, hashtags=["ct"]) for k in range(3)]
    noon = dt.datetime.combine(DAY, dt.time(12), dt.timezone.utc)
    posts += [PostRecord("x", f"mri-today-{k}", f"new MRI safety rule {k}", noon, hashtags=["MRI"],
                         url=f"https://x.com/i/status/{k}") for k in range(15)]
    posts += [PostRecord("x", f"ct-today-{k}", "ct talk", noon, hashtags=["ct"]) for k in range(4)]
    with db.engine.begin() as conn:
        upsert_posts(conn, posts)


def test_robust_z_uses_median_and_mad():
    z, median, mad = robust_z(15, [1, 2] * 14)
    assert (median, mad) == (1.5, 0.5) and z == (15 - 1.5) / 1.0  # the scale never below one post
    assert robust_z(4, [3] * 28)[0] == 1.0


def test_a_spike_sends_one_alert_and_a_second_run_the_same_day_none(db, smtp_server):
    inbox, port = smtp_server()
    _seed(db)
    settings = settings_for(port)
    add_subscriber(db, "fan@example.org", alerts=True)
    add_subscriber(db, "digest-only@example.org")
    spikes = find_spikes(db, settings, DAY)
    assert [(s.subject, s.count) for s in spikes] == [("#mri", 15)]
    first = send_alerts(db, settings, day=DAY)
    assert first.sent == [("fan@example.org", "#mri")]
    [msg] = inbox.messages
    assert msg["To"] == "fan@example.org" and "#mri" in msg["Subject"]
    assert "15 public posts" in msg.get_content() and "new MRI safety rule" in msg.get_content()
    second = send_alerts(db, settings, day=DAY)
    assert second.sent == [] and second.skipped == [("fan@example.org", "#mri")]
    assert len(inbox.messages) == 1


def test_alerts_preview_shows_what_would_be_sent(tmp_path, smtp_server):
    from radpulse.db.engine import open_database

    url = f"sqlite:///{tmp_path / 'r.db'}"
    db = open_database(url)
    _seed(db)
    add_subscriber(db, "fan@example.org", alerts=True)
    result = CliRunner().invoke(cli, ["--database-url", url, "alerts", "preview", "--day", DAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "Spikes on 2026-11-20: 1; alerts that would be sent: 1" in result.output
    assert "#mri: 15 public posts" in result.output and "to: fan@example.org" in result.output
    db.dispose()
