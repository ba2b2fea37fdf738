"""X through the runner: idempotency, crash safety, budget, missing credentials, engagement refresh."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator

import responses
from sqlalchemy import func, select
from xreplay import (
    LOOKUP_URL,
    SEARCH_URL,
    SearchServer,
    add_source,
    body,
    cassette_json,
    query_params,
    search_page_with_metrics,
    serve_json,
    stored_posts,
    x_settings,
)

from radpulse.collectors import registry
from radpulse.collectors.base import Collector
from radpulse.collectors.runner import (
    api_units_spent,
    collect_sources,
    load_cursor,
    refresh_platforms,
    run_source,
)
from radpulse.collectors.x import XCollector
from radpulse.db.models import ApiUsage, CollectionRun, Post, PostSource
from radpulse.records import Batch, PostRecord, PostRef

UTC = dt.timezone.utc


def _real_tweets(fixtures_dir):
    """19 distinct real tweets from the recordings, with their users."""
    tweets: dict[str, dict] = {}
    users: list[dict] = []
    for page in (cassette_json(fixtures_dir, "test_client_search_recent_tweets.yaml"),
                 cassette_json(fixtures_dir, "test_client_get_users_tweets.yaml"),
                 cassette_json(fixtures_dir, "test_client_get_tweets.yaml"),
                 body(fixtures_dir, "apis_searches_search_tweets_query.json"),
                 search_page_with_metrics(fixtures_dir)):
        for t in page["data"]:
            tweets.setdefault(t["id"], t)
        users += (page.get("includes") or {}).get("users", [])
    return list(tweets.values()), users


def test_two_runs_store_each_post_once_with_the_latest_metrics(db, fixtures_dir):
    spec = add_source(db)
    page = search_page_with_metrics(fixtures_dir)
    later = copy.deepcopy(page)
    later["data"][0]["public_metrics"].update(like_count=41, retweet_count=9)
    with responses.RequestsMock() as rsps:
        serve_json(rsps, page)
        serve_json(rsps, later)
        serve_json(rsps, page)  # the first payload again, read last
        first = run_source(db, XCollector(x_settings()), spec)
        second = run_source(db, XCollector(x_settings()), spec)
        posts_after_second = stored_posts(db)
        third = run_source(db, XCollector(x_settings()), spec)
    assert (first.new, first.updated) == (1, 0)
    assert (second.new, second.updated) == (0, 1) and (third.new, third.updated) == (0, 1)
    tweet_id = page["data"][0]["id"]
    assert posts_after_second[tweet_id].like_count == 41 and posts_after_second[tweet_id].repost_count == 9
    # the third run read the original payload again, later: its reading is the latest
    assert stored_posts(db)[tweet_id].like_count == 40
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Post)) == 1
        assert s.scalar(select(func.count()).select_from(PostSource)) == 1
        assert s.scalar(select(ApiUsage.units).where(ApiUsage.platform == "x")) == 3


def test_crash_after_n_batches_resumes_without_gap_or_duplicate(db, fixtures_dir):
    tweets, users = _real_tweets(fixtures_dir)
    assert len(tweets) == 19
    newest = max(tweets, key=lambda t: int(t["id"]))
    server = SearchServer([t for t in tweets if t is not newest], users, page_size=5)
    spec = add_source(db)
    writes = []

    def crash_on_third_batch(conn, batch, ids):
        writes.append(len(batch.posts))
        if len(writes) == 3:
            raise RuntimeError("injected crash while storing batch 3")

    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, SEARCH_URL, callback=server)
        per_page = x_settings()
        per_page.database.commit_items = 0  # commit every page: the crash hits the third commit
        crashed = run_source(db, XCollector(per_page), spec, after_batch=[crash_on_third_batch])
    assert crashed.status == "failed" and "injected crash" in crashed.error
    stored = stored_posts(db)
    ordered = sorted((t for t in tweets if t is not newest), key=lambda t: int(t["id"]), reverse=True)
    assert set(stored) == {t["id"] for t in ordered[:10]}  # two committed batches, the third rolled back
    cursor = load_cursor(db, spec.id)
    assert cursor == {"since_id": None, "until_id": ordered[9]["id"], "newest_id": ordered[0]["id"]}
    with db.session() as s:
        run = s.get(CollectionRun, crashed.run_id)
        assert (run.status, run.new, run.cursor_after) == ("failed", 10, cursor)

    server.requests.clear()
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, SEARCH_URL, callback=server)
        resumed = run_source(db, XCollector(x_settings()), spec)
    assert resumed.status == "success", resumed.error
    assert server.requests[0]["until_id"] == ordered[9]["id"] and "since_id" not in server.requests[0]
    # every page of the resumed walk repeats until_id beside its next_token (same query for X)
    assert [(r["until_id"], r.get("next_token")) for r in server.requests] == [
        (ordered[9]["id"], None), (ordered[9]["id"], "p5")]
    assert (resumed.new, resumed.updated) == (8, 0)
    assert set(stored_posts(db)) == {t["id"] for t in ordered}
    assert load_cursor(db, spec.id) == {"since_id": ordered[0]["id"]}

    # a post published since: the next run asks for newer ones only and gets exactly it
    server.tweets.insert(0, newest)
    server.requests.clear()
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, SEARCH_URL, callback=server)
        latest = run_source(db, XCollector(x_settings()), spec)
    assert server.requests == [server.requests[0]] and server.requests[0]["since_id"] == ordered[0]["id"]
    assert (latest.new, latest.updated) == (1, 0)
    assert len(stored_posts(db)) == 19
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Post)) == 19
    assert load_cursor(db, spec.id) == {"since_id": newest["id"]}


def test_budget_stops_before_it_is_spent(db, fixtures_dir):
    tweets, users = _real_tweets(fixtures_dir)
    server = SearchServer(tweets, users, page_size=10)
    spec = add_source(db)
    settings = x_settings(monthly_read_budget=25, max_results=10)
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, SEARCH_URL, callback=server)
        summary = run_source(db, XCollector(settings), spec)
    # before page 2: 0 spent + 10 this run + up to 10 more = 20 <= 25, so it is requested
    assert len(server.requests) == 2
    assert summary.status == "success"  # 19 tweets fit in two pages
    assert api_units_spent(db, "x") == 19

    spec2 = add_source(db, name="x:#RadRes", value="#RadRes")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.GET, SEARCH_URL, callback=server)
        stopped = run_source(db, XCollector(settings), spec2)
        assert len(rsps.calls) == 0  # 19 spent + up to 10 more would exceed 25: nothing is requested
    assert stopped.status == "budget_exhausted"
    assert "budget" in stopped.error and "19 of 25" in stopped.error and "monthly_read_budget" in stopped.error
    with db.session() as s:
        run = s.get(CollectionRun, stopped.run_id)
        assert run.status == "budget_exhausted" and run.error == stopped.error


def test_budget_stop_mid_run_keeps_what_was_committed(db, fixtures_dir):
    tweets, users = _real_tweets(fixtures_dir)
    server = SearchServer(tweets, users, page_size=10)
    spec = add_source(db)
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, SEARCH_URL, callback=server)
        summary = run_source(db, XCollector(x_settings(monthly_read_budget=15, max_results=10)), spec)
    assert len(server.requests) == 1 and summary.status == "budget_exhausted"
    assert summary.new == 10 and len(stored_posts(db)) == 10 and api_units_spent(db, "x") == 10
    assert load_cursor(db, spec.id)["until_id"] == summary.cursor["until_id"]  # resumes there next month


class _FakeCollector(Collector):
    platform = "fake-test"
    kinds = ("thing",)

    def collect(self, source, cursor) -> Iterator[Batch]:
        yield Batch(posts=[PostRecord("fake-test", "1", "hello", dt.datetime(2024, 1, 1, tzinfo=UTC))],
                    cursor={"n": 1})


def test_missing_credentials_is_reported_and_others_still_run(db, monkeypatch):
    monkeypatch.setitem(registry._REGISTRY, "fake-test", _FakeCollector)
    registry._load()
    x_spec = add_source(db)
    other = add_source(db, name="fake:one", platform="fake-test", kind="thing", value="one")
    with responses.RequestsMock() as rsps:  # no HTTP at all
        results = collect_sources(db, x_settings(env={}), [x_spec, other])
        assert len(rsps.calls) == 0
    x_result, other_result = results
    assert x_result.status == "not_configured"
    assert x_result.error.startswith("x:#Radiology: not configured, set X_BEARER_TOKEN")
    assert "Traceback" not in x_result.error
    assert other_result.status == "success" and other_result.new == 1
    assert load_cursor(db, other.id) == {"n": 1}


def test_refresh_updates_metrics_and_marks_deleted_posts(db, fixtures_dir):
    spec = add_source(db)
    search = body(fixtures_dir, "apis_searches_search_tweets_query.json")
    looked_up = body(fixtures_dir, "apis_tweet_tweets_resp.json")
    with responses.RequestsMock() as rsps:
        serve_json(rsps, search)
        serve_json(rsps, looked_up)
        run_source(db, XCollector(x_settings()), spec)
        run_source(db, XCollector(x_settings()), add_source(db, name="x:#other", value="#other"))
    ids = [t["id"] for t in search["data"]]
    before = stored_posts(db)
    assert len(before) == 6 and all(p.text for p in before.values())

    answer = copy.deepcopy(looked_up)
    answer["data"][0]["public_metrics"] = {"retweet_count": 3, "reply_count": 1, "like_count": 12,
                                           "quote_count": 0, "impression_count": 500}
    # X's partial errors for ids it will not return (v2 "problems" format)
    answer["errors"] = [
        {"value": ids[0], "detail": f"Could not find tweet with ids: [{ids[0]}].", "title": "Not Found Error",
         "resource_type": "tweet", "parameter": "ids", "resource_id": ids[0],
         "type": "https://api.twitter.com/2/problems/resource-not-found"},
        {"value": ids[1], "detail": f"Sorry, you are not authorized to see the Tweet with ids: [{ids[1]}].",
         "title": "Authorization Error", "resource_type": "tweet", "parameter": "ids", "resource_id": ids[1],
         "type": "https://api.twitter.com/2/problems/not-authorized-for-resource"},
    ]
    settings = x_settings()
    settings.refresh.max_age_days = 36500
    with responses.RequestsMock() as rsps:
        serve_json(rsps, answer, url=LOOKUP_URL)
        (summary,) = refresh_platforms(db, settings, ["x"])
        params = query_params(rsps.calls[0])
    assert set(params["ids"].split(",")) == set(before)
    assert "public_metrics" in params["tweet.fields"]
    assert summary.status == "warning" and "neither data nor an error for 2" in summary.warnings[0]
    after = stored_posts(db)
    assert len(after) == 6
    for gone in ids[:2]:
        assert after[gone].is_deleted and after[gone].text is None and after[gone].raw is None
        assert after[gone].deleted_at is not None
    for kept in ids[2:]:
        assert not after[kept].is_deleted and after[kept].text == before[kept].text
    fresh = after[answer["data"][0]["id"]]
    assert (fresh.like_count, fresh.repost_count, fresh.view_count) == (12, 3, 500)
    assert fresh.metrics_read_at is not None and fresh.text == answer["data"][0]["text"]

    # a deleted post stays purged when a later collection sees it again
    with responses.RequestsMock() as rsps:
        serve_json(rsps, search)
        run_source(db, XCollector(x_settings()), spec)
    assert stored_posts(db)[ids[0]].text is None


def test_refresh_looks_up_100_ids_per_request(fixtures_dir):
    recorded = cassette_json(fixtures_dir, "test_client_get_tweets.yaml")
    created = dt.datetime(2020, 8, 12, tzinfo=UTC)
    refs = [PostRef("x", str(1293593516040269825 + i), created) for i in range(150)]
    seen: list[list[str]] = []

    def lookup(request):
        seen.append(query_params(type("C", (), {"request": request})())["ids"].split(","))
        return 200, {}, json.dumps(recorded)

    collector = XCollector(x_settings())
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, LOOKUP_URL, callback=lookup)
        batches = list(collector.refresh(refs))
    assert [len(ids) for ids in seen] == [100, 50]
    assert seen[0][0] == refs[0].external_id and seen[1][-1] == refs[-1].external_id
    assert [b.api_units for b in batches] == [2, 2]
    assert {p.external_id for p in batches[0].posts} == {t["id"] for t in recorded["data"]}


def test_refresh_stops_before_the_budget_is_spent(fixtures_dir):
    import pytest

    from radpulse.errors import BudgetExhausted

    recorded = cassette_json(fixtures_dir, "test_client_get_tweets.yaml")
    refs = [PostRef("x", str(1293593516040269825 + i), dt.datetime(2020, 8, 12, tzinfo=UTC)) for i in range(250)]
    collector = XCollector(x_settings(monthly_read_budget=1000))
    collector.spent_this_period = 899  # 899 + 100 fits; then 899 + 2 read + 100 more would not
    with responses.RequestsMock() as rsps:
        serve_json(rsps, recorded, url=LOOKUP_URL)
        batches = collector.refresh(refs)
        assert len(next(batches).posts) == 2
        with pytest.raises(BudgetExhausted, match="901 of 1,000"):
            next(batches)
        assert len(rsps.calls) == 1
