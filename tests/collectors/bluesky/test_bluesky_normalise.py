"""Bluesky normalisation of recorded PostViews, and the lexicon check of built search answers."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re

import bluesky_replay as br
import jsonschema
import orjson
import pytest

from radpulse.collectors.bluesky.normalise import (
    decode_posts,
    normalise_page,
    normalise_post,
    parse_time,
    sort_at,
)

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc)


def by_uri(fixtures_dir):
    return {v["uri"]: v for v in br.post_views(fixtures_dir)}


def test_recorded_getposts_view_every_field(fixtures_dir):
    view = by_uri(fixtures_dir)["at://did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/app.bsky.feed.post/3k7qmjev5lr2s"]
    post, author = normalise_post(view, retrieved_at=NOW, provenance={"endpoint": "e"})
    assert post.platform == "bluesky"
    assert post.external_id == view["uri"]
    assert post.url == "https://bsky.app/profile/soubhikbarari.bsky.social/post/3k7qmjev5lr2s"
    assert post.text == view["record"]["text"] and post.text.startswith("Excited to be a speaker")
    assert post.created_at == dt.datetime(2023, 9, 19, 11, 32, 54, 574000, tzinfo=dt.timezone.utc)
    assert post.language == "en"
    assert (post.reply_count, post.like_count, post.repost_count, post.quote_count) == (0, 4, 0, 0)
    assert post.metrics_read_at == NOW and post.view_count is None and post.score is None
    assert post.has_media is True  # app.bsky.embed.images
    assert post.links == ["http://localview.net", "https://rstats.ai/gov.html"]  # link facets
    assert post.hashtags == [] and post.mentions == []  # "#rstats" in the text is not a tag facet
    assert post.in_reply_to_id is post.quoted_id is post.conversation_id is post.reposted_id is None
    assert post.community is None and post.title is None
    assert orjson.loads(post.raw) == view and post.provenance == {"endpoint": "e"}  # the JSON as sent
    assert post.author_external_id == author.external_id == "did:plc:ic6zqvuw5ulmfpjiwnhsr2ns"
    assert (author.handle, author.display_name) == ("soubhikbarari.bsky.social", "Soubhik Barari")
    assert author.url == "https://bsky.app/profile/soubhikbarari.bsky.social"
    assert orjson.loads(author.raw) == view["author"]


def test_recorded_quotes_facets_and_external_embed(fixtures_dir):
    views = by_uri(fixtures_dir)
    quoted = "at://did:plc:5c2r73erhng4bszmxlfdtscf/app.bsky.feed.post/3lc5c5qv72r2w"
    quote, _ = normalise_post(views["at://did:plc:3ixxligsafp4u6ghljcoetnm/app.bsky.feed.post/3lc6isqcp6u2y"],
                              retrieved_at=NOW)
    assert quote.quoted_id == quoted
    assert quote.hashtags == ["rstats"]
    assert quote.mentions == ["did:plc:5c2r73erhng4bszmxlfdtscf", "did:plc:wpe35pganb6d4pg4ekmfy6u5"]
    assert quote.created_at == dt.datetime(2024, 11, 30, 16, 20, 25, 23354, tzinfo=dt.timezone.utc)
    assert (quote.reply_count, quote.like_count, quote.repost_count, quote.quote_count) == (1, 3, 1, 0)
    assert quote.language is None and quote.has_media is False
    with_media, _ = normalise_post(views["at://did:plc:wpe35pganb6d4pg4ekmfy6u5/app.bsky.feed.post/3lc5d6zspys2c"],
                                   retrieved_at=NOW)
    assert with_media.quoted_id == quoted  # recordWithMedia's record
    assert "https://christophertkenny.com/bskyr/" in with_media.links  # its external embed
    assert with_media.has_media is False  # an external card is not media


def test_reply_video_tags_and_invalid_handle(fixtures_dir):
    view = copy.deepcopy(by_uri(fixtures_dir)["at://did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/app.bsky.feed.post/3k7qmjev5lr2s"])
    view["author"]["handle"] = "handle.invalid"
    view["record"]["embed"] = {"$type": "app.bsky.embed.video", "video": {}}
    view["record"]["tags"] = ["#FOAMrad", "radiology"]
    view["record"]["facets"].append({"features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "radiology"}],
                                     "index": {"byteStart": 0, "byteEnd": 1}})
    view["record"]["reply"] = {"root": {"uri": "at://did:plc:x/app.bsky.feed.post/root", "cid": "c"},
                               "parent": {"uri": "at://did:plc:x/app.bsky.feed.post/parent", "cid": "c"}}
    post, _ = normalise_post(view, retrieved_at=NOW)
    assert post.has_media is True
    assert post.hashtags == ["radiology", "FOAMrad"]
    assert post.in_reply_to_id == "at://did:plc:x/app.bsky.feed.post/parent"
    assert post.conversation_id == "at://did:plc:x/app.bsky.feed.post/root"
    assert post.url == "https://bsky.app/profile/did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/post/3k7qmjev5lr2s"


def test_unusable_views_are_quarantined(fixtures_dir):
    good = br.post_views(fixtures_dir)[0]
    no_record = {k: v for k, v in good.items() if k != "record"}
    bad_uri = {**good, "uri": "https://not-at"}
    posts, _, rejected = normalise_page([no_record, good, bad_uri], retrieved_at=NOW)
    assert [p.external_id for p in posts] == [good["uri"]]
    assert [q.error for q in rejected] == [
        "ValueError: post does not match the lexicon: Object missing required field `record`",
        "ValueError: post has no at:// uri: 'https://not-at'",
    ]
    assert [q.external_id for q in rejected] == [good["uri"], "https://not-at"] and rejected[0].raw == no_record


def test_language_filter_keeps_posts_without_langs(fixtures_dir):
    views = br.post_views(fixtures_dir)  # en, none, en
    posts, _, _ = normalise_page(views, retrieved_at=NOW, languages=["de", "fr"])
    assert [p.language for p in posts] == [None]
    posts, _, _ = normalise_page(views, retrieved_at=NOW, languages=["en-US", "de"])
    assert len(posts) == 3


def test_times_parse_to_utc():
    assert parse_time("2024-02-22T19:58:13.903293+00:00") == dt.datetime(2024, 2, 22, 19, 58, 13, 903293, tzinfo=dt.timezone.utc)
    assert parse_time("2024-02-22T21:58:13.123456789+02:00") == dt.datetime(2024, 2, 22, 19, 58, 13, 123456, tzinfo=dt.timezone.utc)
    assert parse_time("2024-02-22T19:58:13").tzinfo == dt.timezone.utc
    with pytest.raises(ValueError):
        parse_time(None)
    view = {"indexedAt": "2024-01-02T00:00:00Z", "record": {"createdAt": "2030-01-01T00:00:00Z"}}
    assert sort_at(view) == "2024-01-02T00:00:00.000000Z"  # a future createdAt sorts at indexedAt


def test_built_search_answers_are_checked_against_the_lexicon(fixtures_dir):
    views = br.post_views(fixtures_dir)
    assert br.search_answer(fixtures_dir, views, cursor="25")["posts"] == views
    validator = br.search_posts_validator(fixtures_dir)
    for broken in (
        {"cursor": "1"},  # posts required
        {"posts": [{k: v for k, v in views[0].items() if k != "indexedAt"}]},
        {"posts": [{**views[0], "uri": "https://bsky.app/x"}]},
        {"posts": [{**views[0], "likeCount": "4"}]},
        {"posts": [{**views[0], "embed": {"images": []}}]},  # a union member needs its $type
    ):
        with pytest.raises(jsonschema.ValidationError):
            validator.validate(broken)


def test_views_are_read_from_the_json_as_sent_and_stored_byte_for_byte(fixtures_dir):
    """The server's own JSON is the raw payload: key order, escapes and spacing are kept."""
    view = br.post_views(fixtures_dir)[0]
    sent = json.dumps(view, indent=1, ensure_ascii=True).encode()  # not what orjson would write
    post, author = normalise_post(sent, retrieved_at=NOW)
    assert post.raw == sent and json.loads(author.raw) == view["author"]
    assert (post.external_id, post.text) == (view["uri"], view["record"]["text"])
    page = json.dumps({"posts": [view, {"uri": view["uri"] + "x", "author": {"did": 5}, "record": {}}],
                       "cursor": "c2"}).encode()
    views, cursor = decode_posts(page)
    assert cursor == "c2" and bytes(views[0]) == json.dumps(view).encode()
    posts, _, rejected = normalise_page(views, retrieved_at=NOW)
    assert [p.external_id for p in posts] == [view["uri"]]
    assert rejected[0].error == "ValueError: author does not match the lexicon: Expected `str`, got `int` - at `$.did`"
    assert rejected[0].external_id == view["uri"] + "x" and rejected[0].raw["author"] == {"did": 5}
    for bad, message in ((b'{"posts": 3}', "Expected `array`, got `int` - at `$.posts`"),
                         (b'{"posts": [', "not valid JSON")):
        with pytest.raises(ValueError, match=re.escape(message)):
            decode_posts(bad)


def test_a_post_that_is_not_utf8_is_quarantined_not_stored(fixtures_dir):
    """Only the fields radpulse reads are decoded: the rest of a post is still checked before it is kept."""
    good, other = br.post_views(fixtures_dir)[:2]
    bad = json.dumps(other).encode().replace(b'"uri":', b'"junk":"\xff\xfe","uri":', 1)
    page = b'{"posts":[' + json.dumps(good).encode() + b"," + bad + b"]}"
    views, _ = decode_posts(page)
    posts, _, rejected = normalise_page(views, retrieved_at=NOW)
    assert [p.external_id for p in posts] == [good["uri"]]
    assert rejected[0].error.startswith("ValueError: the payload is not valid UTF-8 (byte 0xff at offset ")
    assert isinstance(rejected[0].raw, str) and "\ufffd" in rejected[0].raw  # kept, readable, for review


def test_a_runs_memo_reads_each_profile_once(fixtures_dir, monkeypatch):
    """Pages of one run share `known_authors`: a profile sent again byte for byte is not read again
    (the same record comes back); a changed profile is read; the memo is bounded."""
    views = br.clone_views(br.post_views(fixtures_dir)[1], 3)
    known: dict = {}
    _, first, _ = normalise_page(views[:2], retrieved_at=NOW, known_authors=known)
    _, again, _ = normalise_page(views[2:], retrieved_at=NOW, known_authors=known)
    assert len(known) == 1 and again[0] is first[0]
    changed = copy.deepcopy(views[2])
    changed["author"]["displayName"] = "Renamed"
    posts, renamed, _ = normalise_page([changed], retrieved_at=NOW, known_authors=known)
    assert renamed[0] is not first[0] and renamed[0].display_name == "Renamed" and len(known) == 2
    assert posts[0].author_external_id == renamed[0].external_id
    _, alone, _ = normalise_page(views[2:], retrieved_at=NOW)  # no memo: read anew
    assert alone[0] is not first[0] and alone[0] == first[0]

    monkeypatch.setattr("radpulse.collectors.payloads.KNOWN_AUTHORS", 2)
    other = copy.deepcopy(views[0])
    other["author"]["did"] = "did:plc:another"
    normalise_page([other], retrieved_at=NOW, known_authors=known)  # full: forgotten, then remembered
    assert len(known) == 1
