"""The Reddit collector through the runner into SQLite and PostgreSQL: idempotency, crashes, refresh."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from reddit_replay import (
    FakeSubreddit,
    add_source,
    cassette_body,
    distinct_things,
    reddit_settings,
    subreddit_spec,
)
from sqlalchemy import func, select

from radpulse.collectors import registry
from radpulse.collectors.base import Collector
from radpulse.collectors.reddit import RedditCollector
from radpulse.collectors.runner import collect_sources, load_cursor, refresh_platforms, run_source
from radpulse.db.models import Author, Post, Quarantine, SourceCursor
from radpulse.records import Batch, PostRecord, SourceSpec

NEW = "/r/Radiology/new"
UTC = dt.UTC


def stored(db) -> dict[str, dict[str, Any]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(
                Post.external_id,
                Post.score,
                Post.like_count,
                Post.reply_count,
                Post.text,
                Post.title,
                Post.raw,
                Post.is_deleted,
                Post.metrics_read_at,
            )
        )
        return {r.external_id: r._asdict() for r in rows}


def post_count(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Post)).scalar_one()


class CrashAfter(RedditCollector):
    """The Reddit collector with an exception injected after `n` batches."""

    def __init__(self, settings, n: int) -> None:
        super().__init__(settings)
        self.n = n

    def collect(self, source, cursor) -> Iterator[Batch]:
        for i, batch in enumerate(super().collect(source, cursor)):
            if i == self.n:
                raise RuntimeError("injected crash")
            yield batch


def test_two_runs_store_each_post_once_with_the_latest_metrics(db, replay, new_listing) -> None:
    things = distinct_things(new_listing["data"]["children"], 2)
    sub = FakeSubreddit(things)
    replay.on("GET", NEW, sub)
    settings = reddit_settings()
    spec = add_source(db, subreddit_spec())
    first = run_source(db, RedditCollector(settings), spec)
    assert (first.status, first.fetched, first.new, first.updated) == ("success", 200, 200, 0)
    with db.engine.begin() as conn:  # forget the cursor: the next run re-reads the same listing
        conn.execute(SourceCursor.__table__.delete())
    for t in sub.things:
        t["data"]["score"] += 5
        t["data"]["ups"] += 5
        t["data"]["num_comments"] += 1
    second = run_source(db, RedditCollector(settings), spec)
    assert (second.status, second.new, second.updated) == ("success", 0, 200)
    rows = stored(db)
    assert post_count(db) == len(rows) == 200
    for t in sub.things:
        row = rows[t["data"]["name"]]
        assert (row["score"], row["like_count"], row["reply_count"]) == (
            t["data"]["score"],
            t["data"]["ups"],
            t["data"]["num_comments"],
        )
    with db.engine.connect() as conn:
        n_authors = conn.execute(select(func.count()).select_from(Author)).scalar_one()
    assert n_authors == len(
        {t["data"]["author"] for t in things if t["data"]["author"] != "[deleted]"}
    )


def test_crash_after_n_batches_resumes_with_no_gap_and_no_duplicate(
    db, replay, new_listing
) -> None:
    things = distinct_things(new_listing["data"]["children"], 5)  # 500 submissions
    sub = FakeSubreddit(things[150:])  # 350 there at first
    replay.on("GET", NEW, sub)
    settings = reddit_settings()
    spec = add_source(db, subreddit_spec())

    crashed = run_source(db, CrashAfter(settings, 2), spec)
    assert crashed.status == "failed" and "injected crash" in crashed.error
    cursor = load_cursor(db, spec.id)
    names = sub.names()
    assert (
        cursor["walk"]["after"] == names[199] and cursor.get("fullname") is None
    )  # the last committed page
    assert set(stored(db)) == set(names[:200])

    before = len(replay.requests_to(NEW))
    resumed = run_source(db, RedditCollector(settings), spec)
    assert resumed.status == "success" and resumed.new == 150
    afters = [p.get("after", [None])[0] for p in replay.requests_to(NEW)[before:]]
    assert afters[:2] == [names[199], names[299]]  # resumed after the last committed page
    assert load_cursor(db, spec.id) == {
        "fullname": names[0],
        "created_utc": sub.things[0]["data"]["created_utc"],
    }
    assert set(stored(db)) == set(names) and post_count(db) == 350

    for t in things[:150]:  # new posts, then a crash while catching up
        sub.add(t)
    crashed = run_source(db, CrashAfter(settings, 1), spec)
    assert crashed.status == "failed"
    assert load_cursor(db, spec.id)["fullname"] == things[50]["data"]["name"]
    done = run_source(db, RedditCollector(settings), spec)
    assert done.status == "success" and done.new == 50
    assert set(stored(db)) == {t["data"]["name"] for t in things} and post_count(db) == 500


def test_crash_during_a_walk_whose_resume_post_was_deleted_restarts_from_the_top(
    db, replay, new_listing
) -> None:
    sub = FakeSubreddit(distinct_things(new_listing["data"]["children"], 3))
    replay.on("GET", NEW, sub)
    settings = reddit_settings()
    spec = add_source(db, subreddit_spec())
    run_source(db, CrashAfter(settings, 1), spec)
    cursor = load_cursor(db, spec.id)
    sub.remove(cursor["walk"]["after"])
    names = sub.names()
    done = run_source(db, RedditCollector(settings), spec)
    assert done.status == "success"
    assert (
        set(stored(db)) >= set(names) and post_count(db) == 300
    )  # the deleted one was stored before
    assert load_cursor(db, spec.id)["fullname"] == names[0]


def test_item_missing_fields_is_quarantined_and_the_rest_of_the_page_stored(
    db, replay, new_listing
) -> None:
    listing = copy.deepcopy(new_listing)
    broken = listing["data"]["children"][4]
    del broken["data"]["created_utc"]
    replay.json("GET", NEW, listing)
    spec = add_source(db, subreddit_spec())
    summary = run_source(db, RedditCollector(reddit_settings({"limit_per_run": 100})), spec)
    assert summary.status == "warning" and summary.failed == 1 and summary.new == 99
    with db.engine.connect() as conn:
        q = conn.execute(
            select(Quarantine.external_id, Quarantine.error, Quarantine.raw, Quarantine.platform)
        ).one()
    assert q.external_id == broken["data"]["name"] and "created_utc" in q.error
    assert q.raw == broken and q.platform == "reddit"
    assert broken["data"]["name"] not in stored(db)


@pytest.fixture
def other_platform(monkeypatch):
    """A tiny fake collector registered for the duration of a test."""

    class Fake(Collector):
        platform = "fake-test"
        kinds = ("thing",)

        def collect(self, source, cursor):
            yield Batch(
                posts=[
                    PostRecord(
                        platform="fake-test",
                        external_id="1",
                        text="hello",
                        created_at=dt.datetime(2026, 1, 1, tzinfo=UTC),
                    )
                ]
            )

    registry.platforms()  # load the built-in collectors first
    monkeypatch.setitem(registry._REGISTRY, "fake-test", Fake)
    return Fake


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET"),
        ({"REDDIT_CLIENT_ID": "x"}, "REDDIT_CLIENT_SECRET"),
    ],
)
def test_missing_credentials_are_reported_and_other_sources_still_run(
    db, replay, other_platform, env, missing
) -> None:
    settings = reddit_settings(env=env)
    specs = [
        add_source(db, subreddit_spec()),
        add_source(db, SourceSpec("fake:one", "fake-test", "thing", "one")),
    ]
    reddit, fake = collect_sources(db, settings, specs)
    assert reddit.status == "not_configured"
    assert reddit.error.startswith(f"reddit:r/Radiology: not configured, set {missing}")
    assert fake.status == "success" and fake.new == 1
    assert replay.log == []  # Reddit was never called


def test_collect_sources_runs_reddit_beside_another_platform(
    db, replay, new_listing, other_platform
) -> None:
    replay.on("GET", NEW, FakeSubreddit(distinct_things(new_listing["data"]["children"], 1)))
    specs = [
        add_source(db, subreddit_spec()),
        add_source(db, SourceSpec("fake:one", "fake-test", "thing", "one")),
    ]
    reddit, fake = collect_sources(db, reddit_settings(), specs)
    assert (reddit.status, reddit.new, fake.status) == ("success", 100, "success")
    assert reddit.cursor["fullname"] == new_listing["data"]["children"][0]["data"]["name"] + "x0"


def test_refresh_updates_metrics_and_marks_removed_posts_deleted(db, replay, new_listing) -> None:
    things = distinct_things(new_listing["data"]["children"], 2)[:150]
    replay.on("GET", NEW, FakeSubreddit(things))
    settings = reddit_settings()
    spec = add_source(db, subreddit_spec())
    run_source(db, RedditCollector(settings), spec)
    assert post_count(db) == 150

    current = {t["data"]["name"]: copy.deepcopy(t) for t in things}
    for t in current.values():
        t["data"]["score"] += 40
        t["data"]["ups"] += 41
        t["data"]["num_comments"] += 3
    removed, deleted, gone = (
        things[3]["data"]["name"],
        things[120]["data"]["name"],
        things[7]["data"]["name"],
    )
    current[removed]["data"].update(selftext="[removed]", removed_by_category="moderator")
    current[deleted]["data"].update(
        selftext="[deleted]", author="[deleted]", removed_by_category="deleted"
    )
    del current[gone]  # Reddit no longer returns it at all

    def info(request):
        ids = parse_qs(urlsplit(request.url).query)["id"][0].split(",")
        children = [current[i] for i in ids if i in current]
        return (
            200,
            {"Content-Type": "application/json"},
            json.dumps({"kind": "Listing", "data": {"children": children}}),
        )

    replay.on("GET", "/api/info", info)
    newest = max(t["data"]["created_utc"] for t in things)
    now = dt.datetime.fromtimestamp(newest, UTC) + dt.timedelta(days=1)
    [summary] = refresh_platforms(db, settings, ["reddit"], now=now)
    assert summary.status == "warning" and summary.fetched == 149
    assert any("1 post(s) not returned" in w for w in summary.warnings)
    assert [len(p["id"][0].split(",")) for p in replay.requests_to("/api/info")] == [100, 50]

    rows = stored(db)
    assert len(rows) == 150
    for name, row in rows.items():
        if name in (removed, deleted):
            assert (
                row["is_deleted"]
                and row["text"] is None
                and row["title"] is None
                and row["raw"] is None
            )
        elif name == gone:
            assert not row["is_deleted"] and row["score"] == things[7]["data"]["score"]
        else:
            d = current[name]["data"]
            assert not row["is_deleted"]
            assert (row["score"], row["like_count"], row["reply_count"]) == (
                d["score"],
                d["ups"],
                d["num_comments"],
            )
            assert row["raw"]["score"] == d["score"]


def test_a_failing_subreddit_does_not_stop_the_next(db, replay, new_listing) -> None:
    replay.json(
        "GET", "/r/gone/new", {"reason": "banned", "message": "Not Found", "error": 404}, status=404
    )
    replay.on("GET", NEW, FakeSubreddit(distinct_things(new_listing["data"]["children"], 1)))
    specs = [add_source(db, subreddit_spec("gone")), add_source(db, subreddit_spec())]
    gone, ok = collect_sources(db, reddit_settings(), specs)
    assert (
        gone.status == "failed"
        and "r/gone: not found (404): the subreddit is banned." in gone.error
    )
    assert "Check the name in [reddit.subreddits]" in gone.error
    assert (ok.status, ok.new) == ("success", 100)
    assert load_cursor(db, specs[0].id) is None


def test_refresh_reads_comments_of_submissions_that_crossed_the_threshold(
    db, replay, fixtures_dir
) -> None:
    replay.add_cassette(fixtures_dir, "TestSubmission.test_comments.json")
    thread = cassette_body(fixtures_dir, "TestSubmission.test_comments.json", "/comments/")
    submission = copy.deepcopy(thread[0]["data"]["children"][0])
    submission["data"]["score"] = 3  # fresh: below the threshold when collected
    listing = {"kind": "Listing", "data": {"children": [submission], "after": None}}
    replay.json("GET", "/r/redditdev/new", listing)
    settings = reddit_settings(
        {"comments_min_score": 10, "subreddits": [{"name": "redditdev", "comments": True}]}
    )
    spec = add_source(db, subreddit_spec("redditdev", comments=True))
    run_source(db, RedditCollector(settings), spec)
    assert set(stored(db)) == {"t3_2gmzqe"} and replay.requests_to("/comments/2gmzqe") == []

    replay.json("GET", "/api/info", thread[0])  # now scoring 11
    now = dt.datetime.fromtimestamp(submission["data"]["created_utc"], UTC) + dt.timedelta(days=1)
    [summary] = refresh_platforms(db, settings, ["reddit"], now=now)
    assert summary.status == "success" and summary.new == 2
    rows = stored(db)
    assert (
        set(rows) == {"t3_2gmzqe", "t1_cklfmye", "t1_cklhv0f"} and rows["t3_2gmzqe"]["score"] == 11
    )
    assert len(replay.requests_to("/comments/2gmzqe")) == 1
