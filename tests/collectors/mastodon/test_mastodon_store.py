"""Mastodon into the database through the runner: dedup across instances, cursors, crashes, refresh."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator

import mastodon_replay as mr
import pytest
import responses
from mastodon_replay import make_settings
from sqlalchemy import func, select

from radpulse.collectors.mastodon import MastodonCollector
from radpulse.collectors.runner import collect_sources, load_cursor, refresh_platforms, run_source
from radpulse.db.models import Author, Post, PostSource
from radpulse.records import Batch
from radpulse.sources import sync_sources

OFF = {"enabled": False}
TAG = "radiology"
A, B = "mastodon.social", "med-mastodon.com"


def settings_for(instances, env=None, **mastodon):
    return make_settings(
        {"mastodon": {"timelines": [], "instances": instances, "hashtags": [TAG], **mastodon}, "x": OFF, "reddit": OFF,
         "bluesky": OFF, "pubmed": OFF, "crossref": OFF, "feeds": []},
        env,
    )


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def stored(db):
    with db.engine.connect() as conn:
        return {r.external_id: r for r in conn.execute(select(Post).order_by(Post.id))}


def count_posts(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Post)).scalar_one()


def serve(rsps, fixtures_dir, host, statuses, **headers):
    mr.serve_instance(rsps, fixtures_dir, f"https://{host}")
    server = mr.TagServer(statuses, f"https://{host}", TAG, headers=headers)
    server.install(rsps)
    return server


def test_same_status_on_two_instances_is_stored_once(db, fixtures_dir, rsps):
    template = mr.recorded_status(fixtures_dir)
    on_a = mr.make_statuses(template, 6)
    on_b = copy.deepcopy(on_a)
    for k, s in enumerate(on_b):  # the same statuses under med-mastodon.com's own local ids
        s["id"] = str(118000000000000000 + k)
        s["favourites_count"] += 100
    serve(rsps, fixtures_dir, A, on_a)
    serve(rsps, fixtures_dir, B, on_b)
    settings = settings_for([A, B])
    specs = sync_sources(db, settings)
    results = collect_sources(db, settings, specs)
    assert [(r.source, r.status) for r in results] == [(f"mastodon:{A}#{TAG}", "success"), (f"mastodon:{B}#{TAG}", "success")]
    assert [r.new for r in results] == [6, 0] and results[1].updated == 6
    posts = stored(db)
    assert sorted(posts) == sorted(s["uri"] for s in on_a)
    # counts: the newest reading (med-mastodon.com's) is kept
    assert sorted(p.like_count for p in posts.values()) == [100 + k for k in range(6)]
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PostSource)).scalar_one() == 12  # both sources matched each
        assert conn.execute(select(func.count()).select_from(Author)).scalar_one() == 1


def test_cursor_advance_and_idempotent_reruns(db, fixtures_dir, rsps):
    statuses = mr.make_statuses(mr.recorded_status(fixtures_dir), 12)
    server = serve(rsps, fixtures_dir, B, statuses)
    settings = settings_for([B], limit=5)
    (spec,) = sync_sources(db, settings)
    collector = MastodonCollector(settings)

    first = run_source(db, collector, spec)
    assert (first.status, first.new, first.fetched) == ("success", 12, 12)
    assert first.cursor == {"min_id": statuses[-1]["id"]}
    assert load_cursor(db, spec.id) == first.cursor

    again = run_source(db, collector, spec)  # nothing new: asks after min_id and stores nothing
    assert (again.status, again.new, again.updated, again.fetched) == ("success", 0, 0, 0)
    assert server.calls[-1] == {"min_id": statuses[-1]["id"], "limit": "5"}

    statuses += mr.make_statuses(mr.recorded_status(fixtures_dir), 7, start=117020700000000000)
    later = run_source(db, collector, spec)
    assert (later.new, later.updated) == (7, 0)
    assert later.cursor == {"min_id": statuses[-1]["id"]}
    assert count_posts(db) == 19

    # the same payloads read again from scratch: stored once each, counts refreshed
    for s in statuses:
        s["favourites_count"] = 1000
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM source_cursors")
    rerun = run_source(db, collector, spec)
    assert (rerun.new, rerun.updated) == (0, 19)
    assert count_posts(db) == 19
    assert all(p.like_count == 1000 for p in stored(db).values())


class Crash(RuntimeError):
    pass


def crash_after(collector: MastodonCollector, n: int) -> None:
    """Make `collect` raise after yielding `n` batches (the runner has committed them)."""
    real = collector.collect

    def collect(source, cursor) -> Iterator[Batch]:
        for k, batch in enumerate(real(source, cursor)):
            if k == n:
                raise Crash(f"injected after {n} batches")
            yield batch

    collector.collect = collect  # type: ignore[method-assign]


@pytest.mark.parametrize("phase", ["backfill", "forward"])
def test_crash_after_n_batches_resumes_without_gap_or_duplicate(db, fixtures_dir, rsps, phase):
    template = mr.recorded_status(fixtures_dir)
    statuses = mr.make_statuses(template, 23)
    server = serve(rsps, fixtures_dir, B, statuses)
    settings = settings_for([B], limit=5)
    (spec,) = sync_sources(db, settings)
    if phase == "forward":
        run_source(db, MastodonCollector(settings), spec)
        statuses += mr.make_statuses(template, 17, start=117020700000000000)
    before = count_posts(db)

    broken = MastodonCollector(settings)
    crash_after(broken, 2)
    failed = run_source(db, broken, spec)
    assert failed.status == "failed" and "injected after 2 batches" in failed.error
    assert count_posts(db) == before + 10  # two pages of 5 committed
    committed = load_cursor(db, spec.id)
    assert committed == failed.cursor

    server.calls.clear()
    resumed = run_source(db, MastodonCollector(settings), spec)
    assert resumed.status == "success"
    first_call = server.calls[0]
    if phase == "backfill":
        assert first_call == {"max_id": committed["backfill_max_id"], "limit": "5"}
    else:
        assert first_call == {"min_id": committed["min_id"], "limit": "5"}
    posts = stored(db)
    expected = {s["uri"] for s in statuses}
    assert set(posts) == expected  # no gap
    assert count_posts(db) == len(expected)  # no duplicate
    assert resumed.new == len(expected) - before - 10


def test_restricted_instance_is_reported_and_the_others_go_on(db, fixtures_dir, rsps):
    statuses = mr.make_statuses(mr.recorded_status(fixtures_dir), 3)
    serve(rsps, fixtures_dir, A, statuses)
    inter = mr.load(fixtures_dir, "test_unauthed_home_tl_throws.yaml")
    mr.serve_instance(rsps, fixtures_dir, f"https://{B}")
    mr.serve(rsps, mr.find(inter, "GET", "/api/v1/timelines/home", 401), f"https://{B}/api/v1/timelines/tag/{TAG}")
    settings = settings_for([B, A])
    results = collect_sources(db, settings, sync_sources(db, settings))
    by_name = {r.source: r for r in results}
    restricted = by_name[f"mastodon:{B}#{TAG}"]
    assert restricted.status == "not_configured"
    assert "needs an access token" in restricted.error and "RADPULSE_MASTODON_TOKEN_MED_MASTODON_COM" in restricted.error
    assert (by_name[f"mastodon:{A}#{TAG}"].status, by_name[f"mastodon:{A}#{TAG}"].new) == ("success", 3)


def test_refresh_reads_counts_on_the_collecting_instance_and_applies_deletions(db, fixtures_dir, rsps):
    template = mr.recorded_status(fixtures_dir)
    origin = f"https://{B}"  # statuses native to the instance they were collected from
    statuses = mr.make_statuses(template, 3, origin=origin)
    serve(rsps, fixtures_dir, B, statuses)
    settings = settings_for([B], env=None)
    settings.refresh.max_age_days = 100_000
    collect_sources(db, settings, sync_sources(db, settings))
    assert count_posts(db) == 3

    alive, gone, _ = statuses
    fresh = {**alive, "favourites_count": 77, "replies_count": 5}
    rsps.add(responses.GET, f"{origin}/api/v1/statuses/{alive['id']}", json=fresh)
    missing = mr.find(mr.load(fixtures_dir, "test_status_missing.yaml"), "GET", "/api/v1/statuses/0", 404)
    mr.serve(rsps, missing, f"{origin}/api/v1/statuses/{gone['id']}")
    rsps.add(responses.GET, f"{origin}/api/v1/statuses/{statuses[2]['id']}", status=403, json={"error": "forbidden"})

    (summary,) = refresh_platforms(db, settings, ["mastodon"])
    assert summary.status == "warning" and "answered 403" in summary.warnings[0]
    posts = stored(db)
    assert (posts[alive["uri"]].like_count, posts[alive["uri"]].reply_count) == (77, 5)
    assert posts[gone["uri"]].is_deleted and posts[gone["uri"]].text is None and posts[gone["uri"]].raw is None
    assert not posts[statuses[2]["uri"]].is_deleted
    assert posts[statuses[2]["uri"]].like_count == 2  # kept
    assert json.loads(json.dumps(posts[alive["uri"]].provenance))["endpoint"].endswith(f"/api/v1/statuses/{alive['id']}")


def test_refresh_never_asks_a_host_that_a_stored_uri_names(db, fixtures_dir, rsps):
    """A status collected on B whose URI names an internal host: that host is never contacted."""
    template = mr.recorded_status(fixtures_dir)
    internal = mr.make_statuses(template, 2, origin="http://169.254.169.254")
    other = mr.make_statuses(template, 1, origin="http://127.0.0.1:8080", start=117020700000000000)
    serve(rsps, fixtures_dir, B, internal + other)
    settings = settings_for([B])
    settings.refresh.max_age_days = 100_000
    collect_sources(db, settings, sync_sources(db, settings))
    assert count_posts(db) == 3
    rsps.add(responses.GET, re.compile(r"http://(169\.254\.169\.254|127\.0\.0\.1:8080)/.*"), body="internal admin page")

    (summary,) = refresh_platforms(db, settings, ["mastodon"])
    assert not [c for c in rsps.calls if "169.254" in c.request.url or "127.0.0.1" in c.request.url]
    assert summary.warnings == ["mastodon: 3 status(es) federated from other servers were not re-read: refresh "
                                "asks only the instance a status was collected from"]


def test_refresh_warnings_never_echo_a_fetched_body(db, fixtures_dir, rsps, sleeps):
    template = mr.recorded_status(fixtures_dir)
    origin = f"https://{B}"
    statuses = mr.make_statuses(template, 2, origin=origin)
    serve(rsps, fixtures_dir, B, statuses)
    settings = settings_for([B])
    settings.refresh.max_age_days = 100_000
    collect_sources(db, settings, sync_sources(db, settings))
    secret = "INTERNAL-ADMIN-PAGE token=abc123"
    for s in statuses:
        rsps.add(responses.GET, f"{origin}/api/v1/statuses/{s['id']}", body=f"<html>{secret}</html>",
                 content_type="application/json")
    (summary,) = refresh_platforms(db, settings, ["mastodon"])
    assert summary.warnings and all(secret not in w and "abc123" not in w for w in summary.warnings)
    assert "not JSON" in summary.warnings[0]


def test_refresh_skips_an_unreachable_instance_and_goes_on(db, fixtures_dir, rsps, sleeps):
    template = mr.recorded_status(fixtures_dir)
    down = mr.make_statuses(template, 3, origin=f"https://{A}")
    up = mr.make_statuses(template, 2, start=117020700000000000, origin=f"https://{B}")
    serve(rsps, fixtures_dir, A, down)
    serve(rsps, fixtures_dir, B, up)
    settings = settings_for([A, B])
    settings.refresh.max_age_days = 100_000
    collect_sources(db, settings, sync_sources(db, settings))
    for s in up:
        rsps.add(responses.GET, f"https://{B}/api/v1/statuses/{s['id']}", json={**s, "reblogs_count": 9})
    rsps.add(responses.GET, re.compile(rf"https://{re.escape(A)}/api/v1/statuses/.*"), status=503, body="down")
    (summary,) = refresh_platforms(db, settings, ["mastodon"])
    assert summary.status == "warning"
    assert [w for w in summary.warnings if A in w] == [summary.warnings[0]]
    assert "server error 503" in summary.warnings[0]
    assert len([c for c in rsps.calls if "/api/v1/statuses/" in c.request.url and A in c.request.url]) == 3
    posts = stored(db)
    assert [posts[s["uri"]].repost_count for s in up] == [9, 9]


def test_page_budget_warns_and_the_next_run_continues(db, fixtures_dir, rsps):
    template = mr.recorded_status(fixtures_dir)
    statuses = mr.make_statuses(template, 3)
    serve(rsps, fixtures_dir, B, statuses)
    settings = settings_for([B], limit=3, max_pages_per_run=2)
    (spec,) = sync_sources(db, settings)
    run_source(db, MastodonCollector(settings), spec)
    statuses += mr.make_statuses(template, 10, start=117020700000000000)  # 4 pages of new posts
    first = run_source(db, MastodonCollector(settings), spec)
    assert first.status == "warning" and "max_pages_per_run=2" in first.warnings[0]
    assert first.new == 6 and first.cursor == {"min_id": statuses[3 + 6 - 1]["id"]}
    second = run_source(db, MastodonCollector(settings), spec)
    assert (second.status, second.new) == ("success", 4)
    assert set(stored(db)) == {s["uri"] for s in statuses} and count_posts(db) == 13
