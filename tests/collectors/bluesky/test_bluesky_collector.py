"""The Bluesky collector through the real atproto client, its HTTP replayed with respx."""

from __future__ import annotations

import time

import bluesky_replay as br
import httpx
import orjson
import pytest
import respx
from bluesky_replay import make_settings

from radpulse.collectors.bluesky import BlueskyCollector
from radpulse.collectors.bluesky.normalise import sort_at
from radpulse.errors import (
    AuthError,
    BadPayload,
    CollectorError,
    NotConfigured,
    RateLimited,
    SourceUnavailable,
)
from radpulse.records import PostRef, SourceSpec

ENV = {"BLUESKY_HANDLE": "radpulse.test", "BLUESKY_APP_PASSWORD": "app-pass-1234"}
SEARCH = f"{br.XRPC}/app.bsky.feed.searchPosts"
LOGIN = f"{br.XRPC}/com.atproto.server.createSession"
REFRESH = f"{br.XRPC}/com.atproto.server.refreshSession"


def collector(env=ENV, **bluesky) -> BlueskyCollector:
    return BlueskyCollector(make_settings({"bluesky": bluesky}, env))


def source(query: str = "#radiology", languages=()) -> SourceSpec:
    return SourceSpec(f"bluesky:{query}", "bluesky", "query", query, {"languages": list(languages)})


@pytest.fixture
def mock():
    with respx.mock(assert_all_called=False) as router:
        router.post(LOGIN).mock(return_value=httpx.Response(200, json=br.session_body()))
        yield router


def test_search_pages_through_the_real_client(fixtures_dir, mock):
    views = br.clone_views(br.post_views(fixtures_dir)[1], 7)
    server = br.SearchServer(fixtures_dir, views)
    route = mock.get(SEARCH).mock(side_effect=server)
    c = collector(limit=3)
    batches = list(c.collect(source(), None))
    assert [len(b.posts) for b in batches] == [3, 3, 1]
    assert [b.fetched for b in batches] == [3, 3, 1]
    newest = sort_at(views[0])
    assert newest == "2025-05-01T00:06:00.000000Z"
    assert [b.cursor for b in batches] == [
        {"since": None, "newest": newest, "page": "3"},
        {"since": None, "newest": newest, "page": "6"},
        {"since": newest},
    ]
    assert [p.external_id for b in batches for p in b.posts] == [v["uri"] for v in views]
    assert server.calls[0] == {"q": "#radiology", "sort": "latest", "limit": "3"}
    assert server.calls[1]["cursor"] == "3"
    request = route.calls[0].request
    assert request.headers["Authorization"].startswith("Bearer ")
    login = mock.routes[0].calls[0].request
    assert b'"identifier":"radpulse.test"' in login.content and b'"password":"app-pass-1234"' in login.content
    post = batches[0].posts[0]
    assert post.provenance["endpoint"] == SEARCH and post.provenance["client"].startswith("atproto/")
    # one author, the same profile on every page: read once in the run (its memo), kept as sent
    assert batches[0].authors[0] is batches[1].authors[0] is batches[2].authors[0]
    assert orjson.loads(batches[2].authors[0].raw) == views[6]["author"]

    # the next run asks only since the newest post and stores the boundary post again
    again = list(c.collect(source(), batches[-1].cursor))
    assert server.calls[-1]["since"] == newest
    assert [p.external_id for b in again for p in b.posts] == [views[0]["uri"]]
    assert again[0].authors[0] is not batches[0].authors[0]  # each run reads the profiles anew
    assert mock.routes[0].call_count == 1  # one login for the collector's life


def test_one_language_is_sent_several_are_filtered(fixtures_dir, mock):
    views = br.post_views(fixtures_dir)  # langs: en, none, en
    server = br.SearchServer(fixtures_dir, views)
    mock.get(SEARCH).mock(side_effect=server)
    posts = [p for b in collector().collect(source(languages=["en"]), None) for p in b.posts]
    assert server.calls[-1]["lang"] == "en" and len(posts) == 2
    posts = [p for b in collector().collect(source(languages=["de", "fr"]), None) for p in b.posts]
    assert "lang" not in server.calls[-1]
    assert [p.language for p in posts] == [None]


def test_missing_credentials_name_both_variables():
    c = collector(env={})
    with pytest.raises(NotConfigured) as err:
        c.check_configured(source())
    assert "set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD" in str(err.value)


def test_recorded_400_is_a_clear_query_error(fixtures_dir, mock):
    recorded = br.load(fixtures_dir, "r_post_errors.yml")[0]
    mock.get(SEARCH).mock(return_value=br.recorded_response(recorded))
    with pytest.raises(CollectorError) as err:
        list(collector().collect(source("radiology AND ("), None))
    assert err.value.status == "failed"
    assert "rejected searchPosts 'radiology AND ('" in str(err.value) and "InvalidRequest" in str(err.value)
    assert "[bluesky].queries" in str(err.value)


def test_bad_password_is_an_auth_error(mock):
    mock.post(LOGIN).mock(return_value=httpx.Response(
        401, json={"error": "AuthenticationRequired", "message": "Invalid identifier or password"}))
    with pytest.raises(AuthError, match="refused the login of 'radpulse.test'.*Invalid identifier or password"):
        list(collector().collect(source(), None))


def test_expired_token_logs_in_again_once(fixtures_dir, mock):
    views = br.post_views(fixtures_dir)
    expired = httpx.Response(400, json={"error": "ExpiredToken", "message": "Token has expired"})
    mock.get(SEARCH).mock(side_effect=[expired, httpx.Response(200, json=br.search_answer(fixtures_dir, views))])
    c = collector()
    batches = list(c.collect(source(), None))
    assert len(batches[0].posts) == 3
    assert mock.routes[0].call_count == 2 and c.session.logins == 2


def test_revoked_session_is_an_auth_error(mock):
    mock.get(SEARCH).mock(return_value=httpx.Response(401, json={"error": "ExpiredToken", "message": "revoked"}))
    with pytest.raises(AuthError, match="401 ExpiredToken"):
        list(collector().collect(source(), None))
    assert mock.routes[0].call_count == 2  # logged in again once, then gave up


def test_the_sdk_refreshes_a_session_about_to_expire(fixtures_dir, mock):
    mock.post(LOGIN).mock(return_value=httpx.Response(200, json=br.session_body(expires_in=300)))
    refreshed = mock.post(REFRESH).mock(return_value=httpx.Response(200, json=br.session_body()))
    mock.get(SEARCH).mock(return_value=httpx.Response(200, json=br.search_answer(fixtures_dir, [])))
    assert [len(b.posts) for b in collector().collect(source(), None)] == [0]
    assert refreshed.call_count == 1


def test_429_waits_for_ratelimit_reset(fixtures_dir, mock, sleeps):
    reset = int(time.time()) + 90
    limited = httpx.Response(429, json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                             headers={"RateLimit-Limit": "3000", "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)})
    mock.get(SEARCH).mock(side_effect=[limited, httpx.Response(200, json=br.search_answer(fixtures_dir, []))])
    list(collector().collect(source(), None))
    assert len(sleeps) == 1 and 85 < sleeps[0] <= 91


def test_pacing_waits_when_the_window_is_spent(fixtures_dir, mock, sleeps):
    views = br.post_views(fixtures_dir)
    reset = int(time.time()) + 50
    spent = {"RateLimit-Limit": "3000", "RateLimit-Remaining": "1", "RateLimit-Reset": str(reset)}
    mock.get(SEARCH).mock(side_effect=[
        httpx.Response(200, json=br.search_answer(fixtures_dir, views[:2], cursor="2"), headers=spent),
        httpx.Response(200, json=br.search_answer(fixtures_dir, views[2:])),
    ])
    assert [len(b.posts) for b in collector().collect(source(), None)] == [2, 1]
    assert len(sleeps) == 1 and 45 < sleeps[0] <= 51


def test_429_persisting_is_rate_limited(mock, sleeps):
    reset = int(time.time()) + 30
    mock.get(SEARCH).mock(return_value=httpx.Response(
        429, json={"error": "RateLimitExceeded"}, headers={"RateLimit-Reset": str(reset)}))
    with pytest.raises(RateLimited) as err:
        list(collector().collect(source(), None))
    assert err.value.status == "rate_limited" and err.value.reset_at == reset
    assert len(sleeps) == 2


@pytest.mark.parametrize(("failure", "said"), [
    (httpx.Response(500, json={"error": "InternalServerError"}), "failed 3 times (500 InternalServerError"),
    (httpx.Response(503, text="upstream unavailable"), "failed 3 times (503"),
    (httpx.Response(502, text="bad gateway"), "failed 3 times (502"),
    (httpx.ReadTimeout("timed out"), "https://bsky.social timed out 3 times"),
    (httpx.ConnectError("[Errno 111] Connection refused"), "could not reach https://bsky.social ([Errno 111] Connection refused)"),
])
def test_server_errors_and_timeouts_retry_then_unavailable(mock, sleeps, failure, said):
    route = mock.get(SEARCH).mock(side_effect=failure) if isinstance(failure, Exception) else \
        mock.get(SEARCH).mock(return_value=failure)
    with pytest.raises(SourceUnavailable) as err:
        list(collector().collect(source(), None))
    assert route.call_count == 3 and len(sleeps) == 2
    assert said in str(err.value)


def test_a_server_error_then_success(fixtures_dir, mock, sleeps):
    mock.get(SEARCH).mock(side_effect=[httpx.Response(500, json={"error": "InternalServerError"}),
                                       httpx.Response(200, json=br.search_answer(fixtures_dir, br.post_views(fixtures_dir)))])
    assert [len(b.posts) for b in collector().collect(source(), None)] == [3]
    assert len(sleeps) == 1


def test_malformed_answers_are_bad_payload(mock):
    mock.get(SEARCH).mock(return_value=httpx.Response(200, content=b'{"posts": [', headers={"Content-Type": "application/json"}))
    with pytest.raises(BadPayload, match="not JSON"):
        list(collector().collect(source(), None))
    mock.get(SEARCH).mock(return_value=httpx.Response(200, json={"feed": []}))
    with pytest.raises(BadPayload, match="without a list of posts"):
        list(collector().collect(source(), None))


def test_refresh_uses_recorded_getposts_in_batches_of_25(fixtures_dir, mock):
    recorded = br.load(fixtures_dir, "f_getposts.yml")[0]
    route = mock.get(f"{br.XRPC}/app.bsky.feed.getPosts").mock(return_value=br.recorded_response(recorded))
    present = "at://did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/app.bsky.feed.post/3k7qmjev5lr2s"
    refs = [PostRef("bluesky", present, None)] + [
        PostRef("bluesky", f"at://did:plc:gone/app.bsky.feed.post/{k}", None) for k in range(59)]
    batches = list(collector().refresh(refs))
    assert route.call_count == 3
    assert [len(r.request.url.params.get_list("uris")) for r in route.calls] == [25, 25, 10]
    first = {p.external_id: p for p in batches[0].posts}
    assert first[present].like_count == 4 and not first[present].is_deleted
    deleted = [p for b in batches for p in b.posts if p.is_deleted]
    assert len(deleted) == 59 and all(p.text is None for p in deleted)


def test_an_unreachable_service_is_tried_once_per_run(mock, sleeps):
    route = mock.get(SEARCH).mock(side_effect=httpx.ConnectError("[Errno -2] Name or service not known"))
    c = collector()
    errors, calls = [], []
    for query in ("#radiology", "#radres"):
        with pytest.raises(SourceUnavailable) as err:
            list(c.collect(source(query), None))
        errors.append(str(err.value))
        calls.append(route.call_count)
    assert calls == [3, 3]  # retried for the first query; the second made no request
    assert errors[0] == errors[1] and "could not reach https://bsky.social (the host name does not resolve)" in errors[0]
