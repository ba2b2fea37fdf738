"""Bluesky into the database through the runner: cursors, idempotent reruns, crash resume, refresh."""

from __future__ import annotations

from collections.abc import Iterator

import bluesky_replay as br
import httpx
import pytest
import respx
from bluesky_replay import make_settings
from sqlalchemy import func, select

from radpulse.collectors.bluesky import BlueskyCollector
from radpulse.collectors.runner import collect_sources, load_cursor, refresh_platforms, run_source
from radpulse.db.models import Author, Post
from radpulse.records import Batch
from radpulse.sources import sync_sources

OFF = {"enabled": False}
ENV = {"BLUESKY_HANDLE": "radpulse.test", "BLUESKY_APP_PASSWORD": "app-pass-1234"}
SEARCH = f"{br.XRPC}/app.bsky.feed.searchPosts"


def settings_for(queries=("#radiology",), env=ENV, **bluesky):
    return make_settings(
        {"bluesky": {"queries": list(queries), **bluesky}, "x": OFF, "reddit": OFF, "mastodon": OFF,
         "pubmed": OFF, "crossref": OFF, "feeds": []},
        env,
    )


@pytest.fixture
def mock():
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{br.XRPC}/com.atproto.server.createSession").mock(return_value=httpx.Response(200, json=br.session_body()))
        yield router


def stored(db):
    with db.engine.connect() as conn:
        return {r.external_id: r for r in conn.execute(select(Post))}


def count(db, model=Post) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def test_runs_advance_the_cursor_and_rerun_idempotently(db, fixtures_dir, mock):
    template = br.post_views(fixtures_dir)[1]
    views = br.clone_views(template, 8)
    server = br.SearchServer(fixtures_dir, views)
    mock.get(SEARCH).mock(side_effect=server)
    settings = settings_for(limit=3)
    (spec,) = sync_sources(db, settings)
    collector = BlueskyCollector(settings)

    first = run_source(db, collector, spec)
    assert (first.status, first.new, first.fetched) == ("success", 8, 8)
    assert load_cursor(db, spec.id) == {"since": "2025-05-01T00:07:00.000000Z"}
    assert count(db, Author) == 1

    second = run_source(db, collector, spec)  # only the boundary post comes back (since is inclusive)
    assert (second.new, second.updated) == (0, 1)

    newer = br.clone_views(template, 4, start_minute=100)
    views += newer
    third = run_source(db, collector, spec)
    assert (third.new, third.updated) == (4, 1)
    assert load_cursor(db, spec.id) == {"since": "2025-05-01T01:43:00.000000Z"}

    for v in views:
        v["likeCount"] = 999
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM source_cursors")
    rerun = run_source(db, collector, spec)
    assert (rerun.new, rerun.updated) == (0, 12)
    posts = stored(db)
    assert len(posts) == 12 and all(p.like_count == 999 for p in posts.values())


def crash_after(collector: BlueskyCollector, n: int) -> None:
    real = collector.collect

    def collect(source, cursor) -> Iterator[Batch]:
        for k, batch in enumerate(real(source, cursor)):
            if k == n:
                raise RuntimeError(f"injected after {n} batches")
            yield batch

    collector.collect = collect  # type: ignore[method-assign]


def test_crash_after_n_batches_resumes_without_gap_or_duplicate(db, fixtures_dir, mock):
    template = br.post_views(fixtures_dir)[1]
    views = br.clone_views(template, 5)
    server = br.SearchServer(fixtures_dir, views)
    mock.get(SEARCH).mock(side_effect=server)
    settings = settings_for(limit=4)
    (spec,) = sync_sources(db, settings)
    run_source(db, BlueskyCollector(settings), spec)
    old_since = load_cursor(db, spec.id)["since"]

    views += br.clone_views(template, 13, start_minute=50)  # 13 new posts: pages of 4, 4, 4, 2
    broken = BlueskyCollector(settings)
    crash_after(broken, 2)
    failed = run_source(db, broken, spec)
    assert failed.status == "failed" and "injected after 2 batches" in failed.error
    committed = load_cursor(db, spec.id)
    assert committed == {"since": old_since, "newest": "2025-05-01T01:02:00.000000Z", "page": "8"}
    assert count(db) == 5 + 8

    server.calls.clear()
    resumed = run_source(db, BlueskyCollector(settings), spec)
    assert resumed.status == "success"
    assert server.calls[0]["cursor"] == "8" and server.calls[0]["since"] == old_since
    assert load_cursor(db, spec.id) == {"since": "2025-05-01T01:02:00.000000Z"}
    assert set(stored(db)) == {v["uri"] for v in views}  # no gap
    assert count(db) == len(views) == 18  # no duplicate


def test_page_budget_leaves_a_resumable_cursor(db, fixtures_dir, mock):
    views = br.clone_views(br.post_views(fixtures_dir)[1], 10)
    mock.get(SEARCH).mock(side_effect=br.SearchServer(fixtures_dir, views))
    settings = settings_for(limit=3, max_pages_per_run=2)
    (spec,) = sync_sources(db, settings)
    first = run_source(db, BlueskyCollector(settings), spec)
    assert first.status == "warning" and "max_pages_per_run=2" in first.warnings[0]
    assert first.cursor["page"] == "6" and count(db) == 6
    second = run_source(db, BlueskyCollector(settings), spec)
    assert second.new == 4 and count(db) == 10
    assert second.cursor == {"since": views[0]["indexedAt"].replace(".000Z", ".000000Z")}


def test_failures_are_per_source(db, fixtures_dir, mock):
    recorded = br.load(fixtures_dir, "r_post_errors.yml")[0]

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params["q"] == "bad (":
            return br.recorded_response(recorded)
        return httpx.Response(200, json=br.search_answer(fixtures_dir, br.post_views(fixtures_dir)))

    mock.get(SEARCH).mock(side_effect=answer)
    settings = settings_for(queries=["bad (", "#rstats"])
    results = collect_sources(db, settings, sync_sources(db, settings))
    assert [(r.source, r.status) for r in results] == [("bluesky:bad (", "failed"), ("bluesky:#rstats", "success")]
    assert "InvalidRequest" in results[0].error and results[1].new == 3


def test_missing_credentials_are_reported_per_source(db):
    settings = settings_for(env={})
    (result,) = collect_sources(db, settings, sync_sources(db, settings))
    assert result.status == "not_configured"
    assert result.error.startswith("bluesky:#radiology: not configured, set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD")


def test_refresh_updates_counts_and_marks_missing_posts_deleted(db, fixtures_dir, mock):
    views = br.post_views(fixtures_dir)
    mock.get(SEARCH).mock(return_value=httpx.Response(200, json=br.search_answer(fixtures_dir, views)))
    settings = settings_for()
    settings.refresh.max_age_days = 100_000
    collect_sources(db, settings, sync_sources(db, settings))
    assert count(db) == 3
    recorded = br.load(fixtures_dir, "f_getposts.yml")[0]  # only the first post is still there
    mock.get(f"{br.XRPC}/app.bsky.feed.getPosts").mock(return_value=br.recorded_response(recorded))
    (summary,) = refresh_platforms(db, settings, ["bluesky"])
    assert summary.status == "success"
    posts = stored(db)
    alive = posts["at://did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/app.bsky.feed.post/3k7qmjev5lr2s"]
    assert not alive.is_deleted and alive.like_count == 4 and alive.text
    gone = [p for p in posts.values() if p.is_deleted]
    assert len(gone) == 2 and all(p.text is None and p.raw is None for p in gone)
