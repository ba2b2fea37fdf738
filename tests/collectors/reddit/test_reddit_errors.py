"""Error handling of the Reddit collector, with recorded error answers replayed through praw."""

from __future__ import annotations

import json

import pytest
import requests
from reddit_replay import (
    FakeSubreddit,
    cassette_body,
    distinct_things,
    load_cassette,
    reddit_settings,
    subreddit_spec,
)

from radpulse.collectors.reddit import RedditCollector
from radpulse.errors import AuthError, BadPayload, NotFound, RateLimited, SourceUnavailable

NEW = "/r/Radiology/new"


def run(settings=None):
    collector = RedditCollector(settings or reddit_settings())
    try:
        return list(collector.collect(subreddit_spec(), None))
    finally:
        collector.close()


def recorded(fixtures_dir, cassette: str, path: str):
    for it in load_cassette(fixtures_dir, cassette):
        if path in it["request"]["uri"]:
            r = it["response"]
            return (
                r["status"]["code"],
                {
                    "Content-Type": "application/json",
                    **{
                        k: v[0]
                        for k, v in r["headers"].items()
                        if k.lower() in ("www-authenticate", "x-ratelimit-reset")
                    },
                },
                r["body"]["string"],
            )
    raise AssertionError(path)


def sequence(*answers):
    """A handler giving `answers` in turn (the last one repeats)."""
    answers = list(answers)

    def handler(_request):
        return answers.pop(0) if len(answers) > 1 else answers[0]

    return handler


def test_401_invalid_token(replay, fixtures_dir) -> None:
    answer = recorded(
        fixtures_dir, "TestAuthImplicit.test_implicit__with_invalid_token.json", "/api/v1/me"
    )
    replay.on("GET", NEW, lambda _r: answer)
    with pytest.raises(AuthError) as err:
        run()
    assert "401" in str(err.value) and "REDDIT_CLIENT_ID" in err.value.hint
    # prawcore drops the token and retries with a fresh one (twice) before giving up
    assert len(replay.requests_to(NEW)) == 3
    assert len(replay.requests_to("/api/v1/access_token")) == 3


def test_401_at_the_token_endpoint_names_the_credentials(replay) -> None:
    replay.json(
        "POST", "/api/v1/access_token", {"message": "Unauthorized", "error": 401}, status=401
    )
    with pytest.raises(AuthError) as err:
        run()
    assert "refused the credentials (401" in str(err.value)
    assert "REDDIT_CLIENT_SECRET" in err.value.hint
    assert replay.requests_to(NEW) == []


def test_oauth_error_at_the_token_endpoint(replay) -> None:
    replay.json("POST", "/api/v1/access_token", {"error": "invalid_grant"})
    with pytest.raises(AuthError, match=r"refused the app credentials \(invalid_grant\)"):
        run()


def test_403_private_or_quarantined_is_explained(replay, fixtures_dir) -> None:
    answer = recorded(fixtures_dir, "TestSubredditQuarantine.test_opt_out.json", "/r/ferguson/hot")
    replay.on("GET", NEW, lambda _r: answer)
    with pytest.raises(AuthError) as err:
        run()
    assert "forbidden (403)" in str(err.value) and "private or quarantined" in str(err.value)
    assert "read-only app" in str(err.value) and "[reddit.subreddits]" in err.value.hint


def test_403_with_a_reason_names_it(replay) -> None:
    replay.json("GET", NEW, {"reason": "private", "message": "Forbidden", "error": 403}, status=403)
    with pytest.raises(AuthError, match="the subreddit is private,"):
        run()


def test_404_banned_or_missing(replay, fixtures_dir) -> None:
    answer = recorded(fixtures_dir, "TestSubreddit.test_sticky__not_set.json", "/about/sticky")
    replay.on("GET", NEW, lambda _r: answer)
    with pytest.raises(
        NotFound, match=r"r/Radiology: not found \(404\): the subreddit is banned or does not exist"
    ):
        run()


def test_404_banned(replay) -> None:
    replay.json("GET", NEW, {"reason": "banned", "message": "Not Found", "error": 404}, status=404)
    with pytest.raises(NotFound, match="the subreddit is banned\\."):
        run()


def test_redirect_to_search_means_no_such_subreddit(replay) -> None:
    replay.on(
        "GET",
        NEW,
        lambda _r: (
            302,
            {"Location": "https://oauth.reddit.com/subreddits/search?q=Radiology"},
            "",
        ),
    )
    with pytest.raises(NotFound, match="does not exist"):
        run()


def test_429_retry_after_is_honoured_then_collection_goes_on(replay, new_listing, sleeps) -> None:
    body = json.dumps(new_listing)
    replay.on(
        "GET",
        NEW,
        sequence(
            (
                429,
                {
                    "Retry-After": "37",
                    "x-ratelimit-remaining": "0",
                    "x-ratelimit-used": "100",
                    "x-ratelimit-reset": "37",
                },
                "{}",
            ),
            (200, {"Content-Type": "application/json"}, body),
        ),
    )
    batches = run(reddit_settings({"limit_per_run": 100}))
    assert len(batches[0].posts) == 100
    assert 37.0 in sleeps
    assert len(replay.requests_to(NEW)) == 2


def test_429_that_persists_raises_rate_limited_with_the_reset(replay, sleeps) -> None:
    replay.on(
        "GET",
        NEW,
        lambda _r: (
            429,
            {"x-ratelimit-reset": "120", "x-ratelimit-remaining": "0", "x-ratelimit-used": "600"},
            '{"message": "Too Many Requests", "error": 429}',
        ),
    )
    with pytest.raises(RateLimited) as err:
        run()
    assert sleeps.count(120.0) == 2  # waited twice as asked, then gave up
    assert len(replay.requests_to(NEW)) == 3
    assert err.value.reset_at is not None and "resets in 120 s" in str(err.value)
    assert err.value.status == "rate_limited"


def test_429_with_a_long_wait_is_not_slept(replay, sleeps) -> None:
    replay.on("GET", NEW, lambda _r: (429, {"Retry-After": "3600"}, "{}"))
    with pytest.raises(RateLimited, match="resets in 3600 s"):
        run()
    assert not [s for s in sleeps if s >= 600]
    assert len(replay.requests_to(NEW)) == 1


def test_5xx_is_retried_with_backoff_then_source_unavailable(replay, sleeps) -> None:
    replay.on("GET", NEW, lambda _r: (503, {}, "<html>Service Unavailable</html>"))
    with pytest.raises(SourceUnavailable) as err:
        run()
    assert "503" in str(err.value) and "next scheduled run" in err.value.hint
    # prawcore tries each call 3 times; radpulse tries the call twice
    assert len(replay.requests_to(NEW)) == 6
    # prawcore's jittered waits (0-2 s, then 2-4 s) around radpulse's jittered backoff (5-10 s)
    assert len(sleeps) == 5
    assert 0 <= sleeps[0] < 2 and 2 <= sleeps[1] < 4 and 0 <= sleeps[3] < 2 and 2 <= sleeps[4] < 4
    assert 5 <= sleeps[2] <= 10


def test_5xx_then_recovery(replay, new_listing) -> None:
    replay.on(
        "GET",
        NEW,
        sequence(
            (502, {}, ""),
            (500, {}, ""),
            (200, {"Content-Type": "application/json"}, json.dumps(new_listing)),
        ),
    )
    batches = run(reddit_settings({"limit_per_run": 100}))
    assert len(batches[0].posts) == 100 and len(replay.requests_to(NEW)) == 3


def test_timeouts_become_source_unavailable(replay, sleeps) -> None:
    replay.on("GET", NEW, lambda _r: requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(SourceUnavailable, match="ReadTimeout"):
        run()
    assert len(replay.requests_to(NEW)) == 6 and len(sleeps) == 5


def test_malformed_json(replay) -> None:
    replay.on(
        "GET",
        NEW,
        lambda _r: (
            200,
            {"Content-Type": "application/json"},
            '{"kind": "Listing", "data": {"chil',
        ),
    )
    with pytest.raises(BadPayload, match="malformed JSON"):
        run()


def test_json_that_is_not_a_listing(replay) -> None:
    replay.json("GET", NEW, [{"unexpected": True}])
    with pytest.raises(BadPayload, match="expected a Listing"):
        run()


def test_a_page_that_fails_midway_keeps_the_pages_before(replay, new_listing) -> None:
    sub = FakeSubreddit(distinct_things(new_listing["data"]["children"], 3))
    calls = []

    def flaky(request):
        calls.append(request)
        return sub(request) if len(calls) <= 2 else (500, {}, "")

    replay.on("GET", NEW, flaky)
    collector = RedditCollector(reddit_settings())
    got = []
    with pytest.raises(SourceUnavailable):
        got.extend(collector.collect(subreddit_spec(), None))
    assert [len(b.posts) for b in got] == [100, 100]
    assert got[-1].cursor["walk"]["after"] == sub.names()[199]


def test_comment_failure_is_a_warning_and_the_submission_is_kept(replay, fixtures_dir) -> None:
    thread = cassette_body(fixtures_dir, "TestSubmission.test_comments.json", "/comments/")
    listing = {
        "kind": "Listing",
        "data": {"children": thread[0]["data"]["children"], "after": None},
    }
    replay.json("GET", NEW, listing)
    replay.on("GET", "/comments/2gmzqe", lambda _r: (500, {}, ""))
    collector = RedditCollector(reddit_settings({"comments_min_score": 1}))
    batches = list(collector.collect(subreddit_spec(comments=True), None))
    assert [p.external_id for p in batches[0].posts] == ["t3_2gmzqe"]
    assert any("comments of t3_2gmzqe not read" in w and "500" in w for w in batches[0].warnings)
