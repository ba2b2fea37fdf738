"""X error handling: HTTP errors, access tier, rate limits, retries, timeouts, bad payloads."""

from __future__ import annotations

import pytest
import requests
import responses
from sqlalchemy import select
from xreplay import (
    SEARCH_URL,
    TOKEN,
    add_source,
    body,
    cassette_json,
    serve_cassette,
    serve_json,
    stored_posts,
    x_settings,
)

from radpulse.collectors.runner import load_cursor, run_source, write_batch
from radpulse.collectors.x import XCollector
from radpulse.collectors.x.client import RateLimiter, RetryPolicy, XApi
from radpulse.db.models import CollectionRun, Quarantine
from radpulse.records import Batch

NOW = 1_700_000_000.0

#: X's documented error bodies (developer.x.com "Error troubleshooting" / v2 problem types)
CLIENT_NOT_ENROLLED = {
    "client_id": "12345678",
    "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens "
              "from a Twitter developer App that is attached to a Project. You can create a project via "
              "the developer portal.",
    "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
    "title": "Client Forbidden",
    "required_enrollment": "Appropriate Level of API Access",
    "reason": "client-not-enrolled",
    "type": "https://api.twitter.com/2/problems/client-forbidden",
}
DIFFERENT_ACCESS_LEVEL = {"errors": [{
    "message": "You currently have access to a subset of Twitter API v2 endpoints and limited v1.1 endpoints "
               "(e.g. media post, oauth) only. If you need access to this endpoint, you may need a different "
               "access level. You can learn more here: https://developer.twitter.com/en/portal/product",
    "code": 453}]}
UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}


def _collector(clock: float = NOW) -> XCollector:
    api = XApi(TOKEN, limiter=RateLimiter(clock=lambda: clock))
    return XCollector(x_settings(), api=api)


def _run(db, rsps_setup, collector=None):
    spec = add_source(db)
    with responses.RequestsMock() as rsps:
        rsps_setup(rsps)
        summary = run_source(db, collector or _collector(), spec)
        calls = len(rsps.calls)
    return spec, summary, calls


@pytest.mark.parametrize(
    ("status", "payload", "needle", "hint"),
    [
        (401, UNAUTHORIZED, "rejected the bearer token (401", "X_BEARER_TOKEN"),
        (403, CLIENT_NOT_ENROLLED, "access tier does not include GET /2/tweets/search/recent", "access level"),
        (403, DIFFERENT_ACCESS_LEVEL, "access tier does not include GET /2/tweets/search/recent", "Project"),
        (403, {"title": "Forbidden", "detail": "Your app is suspended."}, "refused", "suspended"),
        (404, {"title": "Not Found Error", "detail": "Could not find resource."}, "404 Not Found", "query"),
        (400, {"errors": [{"message": "Invalid query"}], "title": "Invalid Request"}, "400 Bad Request", "syntax"),
    ],
)
def test_http_errors_are_reported_with_what_to_do(db, status, payload, needle, hint):
    spec, summary, calls = _run(db, lambda r: serve_json(r, payload, status=status))
    assert calls == 1  # client errors are not retried
    assert summary.status == "failed"
    assert needle in summary.error and hint in summary.error
    assert summary.error.startswith("x:#Radiology: ")
    for text in (payload.get("detail"), *(e["message"] for e in payload.get("errors", []))):
        if text:
            assert text in summary.error  # X's own words are kept
    with db.session() as s:
        run = s.scalar(select(CollectionRun).where(CollectionRun.id == summary.run_id))
        assert (run.status, run.error, run.finished_at is not None) == ("failed", summary.error, True)
    assert stored_posts(db) == {}


def test_tier_error_explains_the_tier(db):
    _, summary, _ = _run(db, lambda r: serve_json(r, CLIENT_NOT_ENROLLED, status=403))
    assert "access tier" in summary.error and "pay-per-use" in summary.error and "developer portal" in summary.error


def test_429_waits_until_reset_then_continues(db, fixtures_dir, sleeps):
    def setup(rsps):
        serve_json(rsps, {"title": "Too Many Requests"}, status=429,
                   headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(NOW) + 30)})
        serve_json(rsps, body(fixtures_dir, "apis_searches_search_tweets_query.json"))
    spec, summary, calls = _run(db, setup)
    assert calls == 2
    assert sleeps == [31.0]  # until x-rate-limit-reset, plus one second
    assert summary.status == "success" and summary.new == 4


def test_429_retry_after_is_honoured(db, fixtures_dir, sleeps):
    def setup(rsps):
        serve_json(rsps, {"title": "Too Many Requests"}, status=429,
                   headers={"retry-after": "7", "x-rate-limit-reset": str(int(NOW) + 600)})
        serve_json(rsps, body(fixtures_dir, "apis_searches_search_tweets_query.json"))
    _, summary, _ = _run(db, setup)
    assert sleeps == [7.0] and summary.status == "success"


def test_429_far_reset_is_reported_not_slept(db, sleeps):
    reset = int(NOW) + 20 * 24 * 3600  # e.g. the monthly usage cap
    _, summary, calls = _run(db, lambda r: serve_json(
        r, {"title": "UsageCapExceeded", "detail": "Usage cap exceeded: Monthly product cap"}, status=429,
        headers={"x-rate-limit-reset": str(reset)}))
    assert calls == 1 and sleeps == []
    assert summary.status == "rate_limited" and "Monthly product cap" in summary.error


def test_repeated_429_gives_up_as_rate_limited(db, sleeps):
    def setup(rsps):
        for _ in range(3):
            serve_json(rsps, {"title": "Too Many Requests"}, status=429, headers={"retry-after": "5"})
    _, summary, calls = _run(db, setup)
    assert calls == 3 and sleeps == [5.0, 5.0]
    assert summary.status == "rate_limited" and "rate limit" in summary.error


def test_pacing_on_remaining_headers(db, fixtures_dir, sleeps):
    """A page that says no requests are left makes the next request wait for the reset."""
    page1 = cassette_json(fixtures_dir, "test_client_search_recent_tweets.yaml")

    def setup(rsps):
        serve_json(rsps, page1, headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(NOW) + 12)})
        serve_json(rsps, body(fixtures_dir, "apis_searches_search_tweets_query.json"))
    _, summary, calls = _run(db, setup)
    assert calls == 2 and sleeps == [13.0] and summary.new == 14


def test_recorded_headers_do_not_make_it_wait(db, fixtures_dir, sleeps):
    """The cassette's own headers (448 of 450 left) need no pause."""
    def setup(rsps):
        serve_cassette(rsps, fixtures_dir, "test_client_search_recent_tweets.yaml")
        serve_json(rsps, {"meta": {"result_count": 0}})
    _, summary, _ = _run(db, setup)
    assert sleeps == [] and summary.new == 10


def test_server_errors_are_retried_with_jittered_backoff(db, fixtures_dir, sleeps):
    def setup(rsps):
        serve_json(rsps, {"title": "Service Unavailable"}, status=503)
        serve_json(rsps, {"title": "Internal Error"}, status=500)
        serve_json(rsps, body(fixtures_dir, "apis_searches_search_tweets_query.json"))
    _, summary, calls = _run(db, setup)
    assert calls == 3 and summary.status == "success" and summary.new == 4
    policy = RetryPolicy()
    assert len(sleeps) == 2
    for i, slept in enumerate(sleeps):
        full = policy.base * 2**i
        assert full / 2 <= slept <= full


def test_server_errors_persisting_make_the_source_unavailable(db, sleeps):
    def setup(rsps):
        for _ in range(4):
            serve_json(rsps, {"title": "Service Unavailable"}, status=503)
    spec, summary, calls = _run(db, setup)
    assert calls == RetryPolicy().attempts == 4 and len(sleeps) == 3
    assert summary.status == "failed" and "503" in summary.error and "4 times" in summary.error
    assert load_cursor(db, spec.id) is None


def test_timeouts_are_retried_then_reported(db, fixtures_dir, sleeps):
    def setup(rsps):
        rsps.add(responses.GET, SEARCH_URL, body=requests.exceptions.ReadTimeout("read timed out"))
        serve_json(rsps, body(fixtures_dir, "apis_searches_search_tweets_query.json"))
    _, summary, _ = _run(db, setup)
    assert summary.status == "success" and summary.new == 4 and len(sleeps) == 1


def test_timeouts_persisting(db, sleeps):
    def setup(rsps):
        for _ in range(4):
            rsps.add(responses.GET, SEARCH_URL, body=requests.exceptions.ConnectTimeout("connect timed out"))
    _, summary, calls = _run(db, setup)
    assert calls == 4 and summary.status == "failed"
    assert "ConnectTimeout" in summary.error and "4 times" in summary.error


def test_requests_carry_the_configured_deadlines():
    from radpulse.collectors.http import DeadlineAdapter, Deadlines

    settings = x_settings()
    settings.network.read_timeout_seconds = 12.5
    api = XCollector(settings).api
    adapter = api.client.session.get_adapter("https://api.x.com/2/tweets/search/recent")
    assert isinstance(adapter, DeadlineAdapter)
    assert adapter.deadlines == Deadlines(connect=10.0, read=12.5, total=120.0)


@pytest.mark.parametrize("raw", ['{"data": [{"id": "1"', "<html>Over capacity</html>", "[1, 2]"])
def test_malformed_json_is_a_bad_payload(db, raw):
    spec, summary, _ = _run(db, lambda r: r.add(responses.GET, SEARCH_URL, body=raw, status=200,
                                                  content_type="application/json"))
    assert summary.status == "failed"
    assert "X answered GET /2/tweets/search/recent with" in summary.error
    assert ("malformed JSON" in summary.error) or ("expected an object" in summary.error)
    assert stored_posts(db) == {} and load_cursor(db, spec.id) is None


def test_items_missing_required_fields_are_quarantined(db, fixtures_dir):
    page = body(fixtures_dir, "apis_searches_search_tweets_query.json")
    no_id = page["data"][1]
    del no_id["id"]
    no_text = page["data"][2]
    del no_text["text"]
    bad_time = page["data"][3]
    bad_time["created_at"] = "yesterday"
    page["data"].append({"id": "not-a-number", "text": "x"})
    spec, summary, _ = _run(db, lambda r: serve_json(r, page))
    assert summary.status == "warning"  # stored, but something was quarantined
    assert summary.failed == 4 and summary.new == 1 and summary.fetched == 5
    assert set(stored_posts(db)) == {page["data"][0]["id"]}
    with db.session() as s:
        rows = s.scalars(select(Quarantine).order_by(Quarantine.id)).all()
        assert [r.raw for r in rows] == page["data"][1:]
        assert [r.external_id for r in rows] == [None, no_text["id"], bad_time["id"], "not-a-number"]
        assert "no 'id'" in rows[0].error and "no 'text'" in rows[1].error
        assert "yesterday" in rows[2].error and "not a numeric X id" in rows[3].error
        assert all(r.source_id == spec.id and r.run_id == summary.run_id and r.platform == "x" for r in rows)
    # the cursor still advances past the page (the quarantined posts are kept, not lost)
    assert load_cursor(db, spec.id) == {"since_id": page["meta"]["newest_id"]}


def test_a_cursor_older_than_the_search_window_restarts_with_a_warning(db, fixtures_dir):
    spec = add_source(db)
    with db.engine.begin() as conn:  # a cursor left from a run weeks ago
        write_batch(conn, Batch(cursor={"since_id": "1260000000000000000"}), source=spec, run_id=None)
    too_old = {"errors": [{"parameters": {"since_id": ["1260000000000000000"]},
                           "message": "Invalid 'since_id':'1260000000000000000'. 'since_id' must be a tweet id "
                                      "created after 2020-06-18T00:00Z."}],
               "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
               "type": "https://api.twitter.com/2/problems/invalid-request"}
    page = body(fixtures_dir, "apis_searches_search_tweets_query.json")
    with responses.RequestsMock() as rsps:
        serve_json(rsps, too_old, status=400)
        serve_json(rsps, page)
        summary = run_source(db, _collector(), spec)
        first, second = (c.request.url for c in rsps.calls)
    assert "since_id=1260000000000000000" in first and "since_id" not in second
    assert summary.status == "warning" and summary.new == 4
    assert "7-day recent-search window" in summary.warnings[0] and "must be a tweet id" in summary.warnings[0]
    assert load_cursor(db, spec.id) == {"since_id": page["meta"]["newest_id"]}


def test_debug_logging_never_shows_the_bearer_token(db, fixtures_dir, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    _, summary, _ = _run(db, lambda r: serve_json(r, body(fixtures_dir, "apis_searches_search_tweets_query.json")))
    assert summary.status == "success"
    assert TOKEN not in caplog.text
