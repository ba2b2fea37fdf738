"""X collection replayed from real recorded payloads through the real tweepy Client."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest
import responses
from sqlalchemy import select
from xreplay import (
    TOKEN,
    add_source,
    body,
    cassette,
    cassette_json,
    query_params,
    search_page_with_metrics,
    serve_cassette,
    serve_json,
    stored_posts,
    x_settings,
)

from radpulse.collectors.runner import load_cursor, run_source
from radpulse.collectors.x import XCollector, build_query
from radpulse.collectors.x.normalise import parse_time, snowflake_time
from radpulse.db.models import Author, PostSource
from radpulse.records import SourceSpec

UTC = dt.timezone.utc


def _collect(settings, spec, cursor=None):
    collector = XCollector(settings)
    try:
        return list(collector.collect(spec, cursor))
    finally:
        collector.close()


def _spec(**settings):
    return SourceSpec("x:#Radiology", "x", "hashtag", "#Radiology", settings or {"exclude_retweets": True, "languages": []})


def test_request_is_built_from_the_source_and_settings(fixtures_dir):
    settings = x_settings(max_results=25)
    with responses.RequestsMock() as rsps:
        serve_json(rsps, body(fixtures_dir, "apis_searches_search_tweets_query.json"))
        _collect(settings, _spec(exclude_retweets=True, languages=["en", "de"]))
        params = query_params(rsps.calls[0])
        assert rsps.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert "Tweepy" in rsps.calls[0].request.headers["User-Agent"]
    assert params["query"] == "#Radiology -is:retweet (lang:en OR lang:de)"
    assert params["max_results"] == "25"
    assert set(params["expansions"].split(",")) == {
        "author_id", "referenced_tweets.id", "referenced_tweets.id.author_id", "attachments.media_keys"}
    for field in ("public_metrics", "created_at", "entities", "lang", "conversation_id", "referenced_tweets",
                  "attachments"):
        assert field in params["tweet.fields"].split(",")
    for field in ("public_metrics", "description", "username", "name", "verified"):
        assert field in params["user.fields"].split(",")
    assert "since_id" not in params and "next_token" not in params


def test_query_options():
    x = x_settings().x
    assert build_query(SourceSpec("x:RadRes", "x", "hashtag", "RadRes", {"exclude_retweets": False}), x) == "#RadRes"
    assert build_query(SourceSpec("x:q", "x", "query", "radiology OR radiologist",
                                  {"exclude_retweets": True, "languages": ["fr"]}), x) == \
        "(radiology OR radiologist) -is:retweet lang:fr"


def test_every_field_of_a_v2_search_page(fixtures_dir):
    """apis_searches_search_tweets_query.json: replies, mentions, media, URLs, includes.users."""
    payload = body(fixtures_dir, "apis_searches_search_tweets_query.json")
    with responses.RequestsMock() as rsps:
        serve_json(rsps, payload)
        before = dt.datetime.now(UTC)
        (batch,) = _collect(x_settings(), _spec())
    users = {u["id"]: u for u in payload["includes"]["users"]}
    assert [p.external_id for p in batch.posts] == [t["id"] for t in payload["data"]]
    assert batch.quarantined == []
    assert batch.api_units == batch.fetched == len(payload["data"]) == 4
    for post, tweet in zip(batch.posts, payload["data"]):
        ents = tweet.get("entities", {})
        refs = {r["type"]: r["id"] for r in tweet.get("referenced_tweets", [])}
        assert post.platform == "x"
        assert post.text == tweet["text"]
        assert post.created_at == dt.datetime.strptime(tweet["created_at"], "%Y-%m-%dT%H:%M:%S.000Z").replace(tzinfo=UTC)
        assert post.author_external_id == tweet["author_id"]
        assert post.url == f"https://x.com/{users[tweet['author_id']]['username']}/status/{tweet['id']}"
        # X's "und" (undetermined) is no language
        assert post.language == (None if tweet["lang"] == "und" else tweet["lang"])
        assert post.in_reply_to_id == refs.get("replied_to")
        assert post.quoted_id == refs.get("quoted") and post.reposted_id == refs.get("retweeted")
        assert post.conversation_id == tweet.get("conversation_id")
        assert post.links == [u["expanded_url"] for u in ents.get("urls", [])]
        assert post.mentions == [m["username"] for m in ents.get("mentions", [])]
        assert post.hashtags == [h["tag"] for h in ents.get("hashtags", [])]
        assert post.has_media == bool(tweet.get("attachments", {}).get("media_keys"))
        # no public_metrics requested in this recording: counts unknown, not zero
        assert (post.like_count, post.reply_count, post.repost_count, post.quote_count, post.view_count) == (None,) * 5
        assert post.metrics_read_at is None
        assert post.raw == tweet
        assert post.provenance["endpoint"] == "GET /2/tweets/search/recent"
        assert post.provenance["client"].startswith("tweepy/")
        assert dt.datetime.fromisoformat(post.provenance["retrieved_at"]) >= before
    first = batch.posts[0]
    assert first.has_media and first.links == ["https://twitter.com/happycamper/status/1276035977375477760/photo/1"]
    assert first.in_reply_to_id == "1275653067283759104" and first.mentions == ["snowman"]
    assert [a.external_id for a in batch.authors] == [u["id"] for u in payload["includes"]["users"]]
    for author, user in zip(batch.authors, payload["includes"]["users"]):
        assert (author.handle, author.display_name, author.bio) == (user["username"], user["name"], user["description"])
        assert author.url == f"https://x.com/{user['username']}"
        assert author.raw == user
    assert batch.cursor == {"since_id": payload["meta"]["newest_id"]}


def test_public_metrics_and_impressions(fixtures_dir):
    """models_tweet.json carries public_metrics; a copy with impression_count gives view_count."""
    page = search_page_with_metrics(fixtures_dir)
    tweet = page["data"][0]
    with_views = json.loads(json.dumps(page))
    with_views["data"][0]["public_metrics"]["impression_count"] = 1234
    with responses.RequestsMock() as rsps:
        serve_json(rsps, page)
        serve_json(rsps, with_views)
        (batch,) = _collect(x_settings(), _spec())
        (batch2,) = _collect(x_settings(), _spec())
    post = batch.posts[0]
    m = tweet["public_metrics"]
    assert (post.like_count, post.repost_count, post.reply_count, post.quote_count) == (
        m["like_count"], m["retweet_count"], m["reply_count"], m["quote_count"]) == (40, 8, 2, 1)
    assert post.view_count is None and batch2.posts[0].view_count == 1234
    assert post.metrics_read_at is not None and post.metrics_read_at.tzinfo is not None
    assert post.in_reply_to_id == tweet["referenced_tweets"][0]["id"]
    assert post.has_media is True
    assert post.links == [tweet["entities"]["urls"][0]["expanded_url"]]
    assert post.url == "https://x.com/TwitterDev/status/1212092628029698048"
    assert post.created_at == dt.datetime(2019, 12, 31, 19, 26, 16, tzinfo=UTC)
    assert [a.handle for a in batch.authors] == ["TwitterDev"]


def test_unwound_url_and_repost_relations(fixtures_dir):
    """Relations and unwound URLs on a real tweet with its referenced_tweets rewritten."""
    page = body(fixtures_dir, "apis_searches_search_tweets_query.json")
    tweet = page["data"][0]
    tweet["entities"]["urls"][0]["unwound_url"] = "https://pubs.rsna.org/doi/10.1148/radiol.2020201234"
    tweet["referenced_tweets"] = [{"type": "quoted", "id": "1275653067283759104"},
                                  {"type": "retweeted", "id": "1274086728471461889"}]
    page["includes"]["tweets"][2]["entities"]["urls"] = [{"expanded_url": "https://doi.org/10.1/abc"}]
    with responses.RequestsMock() as rsps:
        serve_json(rsps, page)
        (batch,) = _collect(x_settings(), _spec())
    post = batch.posts[0]
    assert post.quoted_id == "1275653067283759104" and post.reposted_id == "1274086728471461889"
    assert post.in_reply_to_id is None
    assert post.links == ["https://pubs.rsna.org/doi/10.1148/radiol.2020201234", "https://doi.org/10.1/abc"]


def test_recorded_cassette_default_fields_use_the_snowflake_time(fixtures_dir):
    """tweepy's cassette asked for default fields only: created_at comes from the id, and the
    bot that posted these wrote its clock into the text, which the derived time must match."""
    raw, headers, _ = cassette(fixtures_dir, "test_client_search_recent_tweets.yaml")
    assert headers["content-encoding"] == "gzip" and raw[:2] == b"\x1f\x8b"
    with responses.RequestsMock() as rsps:
        serve_cassette(rsps, fixtures_dir, "test_client_search_recent_tweets.yaml")
        batches = _collect(x_settings(max_pages_per_run=1), _spec())
    (batch,) = batches
    assert len(batch.posts) == 10
    for post in batch.posts:
        stamp = dt.datetime.strptime(post.text[:26], "%Y-%m-%d %H:%M:%S.%f")
        # the bot's clock is local UTC; the id's millisecond timestamp is within a second of it
        assert abs(post.created_at.replace(tzinfo=None) - stamp) < dt.timedelta(seconds=1)
        assert post.author_external_id is None and post.url == f"https://x.com/i/web/status/{post.external_id}"
    assert batch.warnings and "max_pages_per_run" in batch.warnings[0]
    meta = json.loads(gzip.decompress(raw))["meta"]
    assert batch.cursor == {"since_id": None, "until_id": meta["oldest_id"], "newest_id": meta["newest_id"]}


def test_paging_through_next_token_then_cursor_advance(db, fixtures_dir):
    spec = add_source(db)
    page1 = cassette_json(fixtures_dir, "test_client_search_recent_tweets.yaml")
    page2 = body(fixtures_dir, "apis_searches_search_tweets_query.json")
    with responses.RequestsMock() as rsps:
        serve_cassette(rsps, fixtures_dir, "test_client_search_recent_tweets.yaml")
        serve_json(rsps, page2)
        summary = run_source(db, XCollector(x_settings()), spec)
        assert len(rsps.calls) == 2
        first, second = (query_params(c) for c in rsps.calls)
    assert "next_token" not in first
    assert second["next_token"] == page1["meta"]["next_token"]
    assert summary.status == "success", summary.error
    assert summary.fetched == summary.new == 14 and summary.updated == 0
    posts = stored_posts(db)
    assert set(posts) == {t["id"] for t in page1["data"] + page2["data"]}
    assert load_cursor(db, spec.id) == {"since_id": page1["meta"]["newest_id"]} == summary.cursor
    with db.session() as s:
        assert s.scalar(select(PostSource).where(PostSource.source_id == spec.id).with_only_columns(
            PostSource.post_id).limit(1)) is not None
        assert {a.external_id for a in s.scalars(select(Author))} == {u["id"] for u in page2["includes"]["users"]}
    # next run asks only for newer posts, and an empty answer leaves everything as it was
    with responses.RequestsMock() as rsps:
        serve_json(rsps, {"meta": {"result_count": 0}})
        again = run_source(db, XCollector(x_settings()), spec)
        assert query_params(rsps.calls[0])["since_id"] == page1["meta"]["newest_id"]
    assert again.status == "success" and again.fetched == again.new == 0
    assert load_cursor(db, spec.id) == {"since_id": page1["meta"]["newest_id"]}
    assert len(stored_posts(db)) == 14


def test_empty_result_first_run(db):
    spec = add_source(db)
    with responses.RequestsMock() as rsps:
        serve_json(rsps, {"meta": {"result_count": 0}})
        summary = run_source(db, XCollector(x_settings()), spec)
    assert summary.status == "success" and summary.fetched == 0 and summary.cursor is None
    assert stored_posts(db) == {} and load_cursor(db, spec.id) is None


def test_time_parsing():
    assert parse_time("Wed Oct 10 20:19:24 +0000 2018") == dt.datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)
    assert parse_time("2020-06-25T06:14:19.000Z") == dt.datetime(2020, 6, 25, 6, 14, 19, tzinfo=UTC)
    assert snowflake_time("1578516068309794817") == dt.datetime(2022, 10, 7, 22, 42, 12, 752000, tzinfo=UTC)  # the bot wrote .637103 in the text
    with pytest.raises(ValueError):
        snowflake_time("20")


def test_a_runs_memo_reads_each_user_once(fixtures_dir, monkeypatch):
    """Pages of one run share `known_authors`: a user object sent again unchanged is not read again
    (the same record comes back); a changed profile is read; no memo: read anew; the memo is bounded."""
    import copy

    from radpulse.collectors.x.normalise import normalise_page

    payload = body(fixtures_dir, "apis_searches_search_tweets_query.json")
    now = dt.datetime(2026, 11, 1, tzinfo=UTC)
    known: dict = {}
    _, first, _ = normalise_page(payload, provenance={}, read_at=now, known_authors=known)
    _, again, _ = normalise_page(copy.deepcopy(payload), provenance={}, read_at=now, known_authors=known)
    assert len(known) == len(first) == len(payload["includes"]["users"]) > 1
    assert all(a is b for a, b in zip(again, first))
    changed = copy.deepcopy(payload)
    changed["includes"]["users"][0]["public_metrics"] = {"followers_count": 123_456_789}
    _, renamed, _ = normalise_page(changed, provenance={}, read_at=now, known_authors=known)
    assert renamed[0] is not first[0] and renamed[0].followers == 123_456_789 and renamed[1] is first[1]
    _, alone, _ = normalise_page(payload, provenance={}, read_at=now)
    assert alone[0] is not first[0] and alone == first
    huge = copy.deepcopy(payload)
    huge["includes"]["users"][0]["listed"] = 2 ** 70  # orjson cannot key it: read as is
    _, odd, bad = normalise_page(huge, provenance={}, read_at=now, known_authors=known)
    assert bad == [] and odd[0].external_id == first[0].external_id
    monkeypatch.setattr("radpulse.collectors.payloads.KNOWN_AUTHORS", 1)
    fresh = copy.deepcopy(payload)
    fresh["includes"]["users"] = [{**fresh["includes"]["users"][0], "id": "999"}]
    normalise_page(fresh, provenance={}, read_at=now, known_authors=known)  # full: forgotten, then remembered
    assert len(known) == 1
