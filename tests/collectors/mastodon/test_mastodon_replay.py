"""Recorded Mastodon 4.6 exchanges replayed through the real Mastodon.py client."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import mastodon_replay as mr
import pytest
import requests
import responses
from mastodon_replay import make_settings

from radpulse.collectors.mastodon import MastodonCollector
from radpulse.errors import (
    AuthError,
    BadPayload,
    NotConfigured,
    NotFound,
    RateLimited,
    SourceUnavailable,
)
from radpulse.records import SourceSpec

INSTANCE = "med-mastodon.com"
BASE = f"https://{INSTANCE}"
TOKEN_ENV = "RADPULSE_MASTODON_TOKEN_MED_MASTODON_COM"


def source(tag: str = "radiology", instance: str = INSTANCE) -> SourceSpec:
    return SourceSpec(f"mastodon:{instance}#{tag}", "mastodon", "tag", tag, {"instance": instance})


def collector(env: dict[str, str] | None = None, **mastodon) -> MastodonCollector:
    return MastodonCollector(make_settings({"mastodon": mastodon}, env))


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def tl_url(tag: str = "radiology") -> str:
    return f"{BASE}/api/v1/timelines/tag/{tag}"


def test_recorded_hashtag_timeline(fixtures_dir, rsps):
    inter = mr.load(fixtures_dir, "test_hashtag_tl.yaml")
    mr.serve(rsps, mr.find(inter, "GET", "/api/v2/instance"), f"{BASE}/api/v2/instance/")
    mr.serve(rsps, mr.find(inter, "GET", "/api/v1/timelines/tag/hoot"), tl_url("hoot"), query={"limit": "40"})
    rsps.add(responses.GET, tl_url("hoot"), json=[], match=[responses.matchers.query_param_matcher(
        {"limit": "40", "max_id": "117020593741189701"})])
    rsps.add(responses.GET, tl_url("hoot"), json=[], match=[responses.matchers.query_param_matcher(
        {"limit": "40", "min_id": "117020593741189701"})])
    batches = list(collector().collect(source("hoot"), None))
    # the recorded page, then the older page (empty: the end of the timeline), then nothing newer
    assert [len(b.posts) for b in batches] == [1, 0]
    post = batches[0].posts[0]
    assert post.external_id.endswith("/statuses/117020593741189701") and post.hashtags == ["hoot"]
    assert post.community == INSTANCE
    assert post.provenance["endpoint"] == f"{BASE}/api/v1/timelines/tag/hoot"
    assert post.provenance["client"].startswith("Mastodon.py/")
    assert batches[0].cursor == {"min_id": "117020593741189701", "backfill_max_id": "117020593741189701",
                                 "backfill_pages": 9}
    assert batches[-1].cursor == {"min_id": "117020593741189701"}
    paths = [c.request.path_url for c in rsps.calls]
    assert paths[0] == "/api/v2/instance/"  # Mastodon.py checks the hashtag feed policy first
    assert [parse_qs(urlsplit(p).query) for p in paths[1:]] == [
        {"limit": ["40"]},
        {"limit": ["40"], "max_id": ["117020593741189701"]},
        {"limit": ["40"], "min_id": ["117020593741189701"]},
    ]


@pytest.mark.parametrize("cassette,env,auth", [
    ("test_public_tl_anonymous.yaml", {}, None),
    ("test_public_tl.yaml", {TOKEN_ENV: "tok-123"}, "Bearer tok-123"),
])
def test_anonymous_and_authenticated_timelines(fixtures_dir, rsps, cassette, env, auth):
    inter = mr.load(fixtures_dir, cassette)
    mr.serve(rsps, mr.find(inter, "GET", "/api/v2/instance"), f"{BASE}/api/v2/instance/")
    page = mr.find(inter, "GET", "/api/v1/timelines/public")
    mr.serve(rsps, page, tl_url(), query={"limit": "40"})
    rsps.add(responses.GET, tl_url(), json=[])  # older pages: none
    batches = list(collector(env).collect(source(), None))
    recorded = json.loads(mr.body_of(page))
    assert len(batches[0].posts) == len(recorded) == 8
    assert [p.external_id for p in batches[0].posts] == [s["uri"] for s in recorded]
    for call in rsps.calls:
        assert call.request.headers.get("Authorization") == auth
    assert batches[0].cursor["min_id"] == max((s["id"] for s in recorded), key=int)


def test_link_header_paging_back_and_forward(fixtures_dir, rsps):
    """The recorded fetch_next/fetch_previous pages (limit 5) served as a hashtag timeline."""
    inter = mr.load(fixtures_dir, "test_fetch_next_previous.yaml")
    mr.serve_instance(rsps, fixtures_dir, BASE)
    pages = [i for i in inter if i["request"]["method"] == "GET" and "/statuses" in i["request"]["uri"]]
    first, older, newer = pages
    mr.serve(rsps, first, tl_url(), query={"limit": "5"})
    mr.serve(rsps, older, tl_url(), query={"limit": "5", "max_id": "117020580489281910"})
    c = collector(limit=5, max_pages_per_run=2)
    batches = list(c.collect(source(), None))
    assert [len(b.posts) for b in batches] == [5, 5]
    ids = [json.loads(mr.body_of(p)) for p in (first, older)]
    assert [json.loads(p.raw)["id"] for b in batches for p in b.posts] == [s["id"] for page in ids for s in page]
    # two pages were the budget: backfill done, next runs go forward from the newest id
    assert batches[-1].cursor == {"min_id": "117020580518794573"}

    # a later run from an older cursor: the recorded min_id page, then Link rel="prev" (nothing newer)
    mr.serve(rsps, newer, tl_url(), query={"limit": "5", "min_id": "117020580481736214"})
    rsps.add(responses.GET, tl_url(), json=[], match=[responses.matchers.query_param_matcher(
        {"limit": "5", "min_id": "117020580518794573"})])
    batches = list(c.collect(source(), {"min_id": "117020580481736214"}))
    assert [len(b.posts) for b in batches] == [5]
    assert batches[0].cursor == {"min_id": "117020580518794573"}
    assert parse_qs(urlsplit(rsps.calls[-1].request.url).query) == {"limit": ["5"], "min_id": ["117020580518794573"]}


def test_401_reports_needs_token_naming_the_variable(fixtures_dir, rsps):
    inter = mr.load(fixtures_dir, "test_unauthed_home_tl_throws.yaml")
    mr.serve_instance(rsps, fixtures_dir, BASE)
    mr.serve(rsps, mr.find(inter, "GET", "/api/v1/timelines/home", 401), tl_url())
    with pytest.raises(NotConfigured) as err:
        list(collector().collect(source(), None))
    assert err.value.status == "not_configured"
    assert "needs an access token" in str(err.value) and TOKEN_ENV in str(err.value)


def test_401_with_a_token_is_an_auth_error(fixtures_dir, rsps):
    inter = mr.load(fixtures_dir, "test_unauthed_home_tl_throws.yaml")
    mr.serve_instance(rsps, fixtures_dir, BASE)
    mr.serve(rsps, mr.find(inter, "GET", "/api/v1/timelines/home", 401), tl_url())
    with pytest.raises(AuthError) as err:
        list(collector({TOKEN_ENV: "revoked"}).collect(source(), None))
    assert f"refused the access token in {TOKEN_ENV}" in str(err.value)


def test_instance_policy_requiring_login_is_reported_before_reading(fixtures_dir, rsps):
    """Mastodon 4.5+ can serve hashtag feeds to logged-in users only (an empty list otherwise)."""
    mr.serve_instance(rsps, fixtures_dir, BASE, hashtag_feeds="authenticated")
    rsps.add(responses.GET, tl_url(), json=[])
    with pytest.raises(NotConfigured, match="needs an access token.*authenticated users.*" + TOKEN_ENV):
        list(collector().collect(source(), None))
    assert [c.request.path_url for c in rsps.calls] == ["/api/v2/instance/"]
    # with the token the same instance is read
    rsps.replace(responses.GET, tl_url(), json=[mr.recorded_status(fixtures_dir)])
    batches = list(collector({TOKEN_ENV: "t"}, max_pages_per_run=1).collect(source(), None))
    assert len(batches[0].posts) == 1


def test_404_is_not_found(fixtures_dir, rsps):
    mr.serve_instance(rsps, fixtures_dir, BASE)
    mr.serve(rsps, mr.find(mr.load(fixtures_dir, "test_status_missing.yaml"), "GET", "/api/v1/statuses/0"), tl_url())
    with pytest.raises(NotFound, match="no hashtag timeline"):
        list(collector().collect(source(), None))


def _http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


def test_429_waits_for_the_reset_then_continues(fixtures_dir, rsps, sleeps):
    mr.serve_instance(rsps, fixtures_dir, BASE)
    now = time.time()
    reset = dt.datetime.fromtimestamp(now + 120, dt.timezone.utc).isoformat()
    rsps.add(responses.GET, tl_url(), status=429, json={"error": "Too many requests"},
             headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset,
                      "Date": _http_date(now)})
    rsps.add(responses.GET, tl_url(), json=[mr.recorded_status(fixtures_dir)])
    batches = list(collector(max_pages_per_run=1).collect(source(), None))
    assert len(batches[0].posts) == 1
    assert len(sleeps) == 1 and 110 < sleeps[0] <= 121  # until X-RateLimit-Reset


def test_429_persisting_is_rate_limited(fixtures_dir, rsps, sleeps):
    mr.serve_instance(rsps, fixtures_dir, BASE)
    reset = dt.datetime.fromtimestamp(time.time() + 60, dt.timezone.utc).isoformat()
    rsps.add(responses.GET, tl_url(), status=429, json={"error": "Too many requests"},
             headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
    with pytest.raises(RateLimited) as err:
        list(collector().collect(source(), None))
    assert err.value.status == "rate_limited" and err.value.reset_at is not None
    assert len(sleeps) == 2 and all(50 < s <= 61 for s in sleeps)


def test_pacing_sleeps_when_the_window_is_spent(fixtures_dir, rsps, sleeps):
    statuses = mr.make_statuses(mr.recorded_status(fixtures_dir), 4)
    reset = dt.datetime.fromtimestamp(time.time() + 200, dt.timezone.utc).isoformat()
    mr.serve_instance(rsps, fixtures_dir, BASE)
    server = mr.TagServer(statuses, BASE, "radiology",
                          headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "1", "X-RateLimit-Reset": reset})
    server.install(rsps)
    batches = list(collector(limit=2, max_pages_per_run=2).collect(source(), None))
    assert sum(len(b.posts) for b in batches) == 4
    # every request after the first found the window down to the reserve and waited for its reset
    assert len(sleeps) == 1 and 190 < sleeps[0] <= 201


def test_server_errors_are_retried_then_unavailable(fixtures_dir, rsps, sleeps):
    mr.serve_instance(rsps, fixtures_dir, BASE)
    rsps.add(responses.GET, tl_url(), status=503, body="<html>down</html>")
    with pytest.raises(SourceUnavailable, match="server error 503.*after 3 attempts"):
        list(collector().collect(source(), None))
    assert len([c for c in rsps.calls if "timelines" in c.request.url]) == 3
    assert len(sleeps) == 2 and all(0 <= s <= 30 for s in sleeps)


def test_a_server_error_then_success(fixtures_dir, rsps, sleeps):
    mr.serve_instance(rsps, fixtures_dir, BASE)
    rsps.add(responses.GET, tl_url(), status=502, body="bad gateway")
    rsps.add(responses.GET, tl_url(), json=[mr.recorded_status(fixtures_dir)])
    batches = list(collector(max_pages_per_run=1).collect(source(), None))
    assert len(batches[0].posts) == 1 and len(sleeps) == 1


def test_timeouts_are_unavailable(fixtures_dir, rsps, sleeps):
    mr.serve_instance(rsps, fixtures_dir, BASE)
    rsps.add(responses.GET, tl_url(), body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(SourceUnavailable, match=r"could not reach the instance \(the connection timed out\)"):
        list(collector().collect(source(), None))
    assert len(sleeps) == 2


def test_malformed_json_is_bad_payload(fixtures_dir, rsps):
    mr.serve_instance(rsps, fixtures_dir, BASE)
    rsps.add(responses.GET, tl_url(), body="[{not json", content_type="application/json")
    with pytest.raises(BadPayload, match="not JSON"):
        list(collector().collect(source(), None))


def test_an_unreachable_instance_is_tried_once_per_run_and_the_others_go_on(fixtures_dir, rsps, sleeps):
    rsps.add(responses.GET, re.compile(r"https://down\.example/.*"),
             body=requests.exceptions.ConnectionError("[Errno 111] Connection refused"))
    mr.serve_instance(rsps, fixtures_dir, BASE)
    rsps.add(responses.GET, tl_url(), json=[mr.recorded_status(fixtures_dir)])
    c = collector(max_pages_per_run=1)
    errors, tries = [], []
    for tag in ("radiology", "radres"):
        with pytest.raises(SourceUnavailable) as err:
            list(c.collect(source(tag, "down.example"), None))
        errors.append(str(err.value))
        tries.append(sum(1 for call in rsps.calls if call.request.url.startswith("https://down.example")))
    assert tries[0] >= 3 and tries[1] == tries[0]  # retried for the first source; the second made no request
    assert errors[0] == errors[1] and "down.example: could not reach the instance ([Errno 111] Connection refused)" in errors[0]
    assert [len(b.posts) for b in c.collect(source(), None)] == [1]  # another instance is collected as usual
