"""Mastodon normalisation: every field of recorded statuses, HTML to text, entities, boosts."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re

import mastodon_replay as mr
import orjson
import pytest

from radpulse.collectors.mastodon.html import (
    html_to_text,
    html_to_text_and_links,
    slow_html_to_text_and_links,
)
from radpulse.collectors.mastodon.normalise import (
    MAX_ID_LENGTH,
    decode_statuses,
    normalise_page,
    normalise_status,
    status_external_id,
)
from radpulse.collectors.payloads import NotJSON

NOW = dt.datetime(2026, 8, 2, 12, 0, tzinfo=dt.timezone.utc)
CASSETTES = ("test_hashtag_tl.yaml", "test_public_tl.yaml", "test_public_tl_anonymous.yaml",
             "test_fetch_next_previous.yaml", "test_status_context.yaml", "test_search.yaml")


def recorded_statuses(fixtures_dir):
    """Every status body in the recorded cassettes (timelines, single statuses, search, context)."""
    out = []
    for name in CASSETTES:
        for i in mr.load(fixtures_dir, name):
            if i["response"]["status"]["code"] != 200:
                continue
            body = json.loads(i["response"]["body"]["string"])
            if isinstance(body, list):
                out += [s for s in body if isinstance(s, dict) and "uri" in s]
            elif isinstance(body, dict) and "content" in body:
                out.append(body)
            elif isinstance(body, dict):
                for key in ("statuses", "ancestors", "descendants"):
                    out += body.get(key) or []
    return out


def test_recorded_hashtag_status_every_field(fixtures_dir):
    status = mr.recorded_status(fixtures_dir)
    post, author = normalise_status(status, "med-mastodon.com", retrieved_at=NOW, provenance={"endpoint": "e"})
    assert post.platform == "mastodon"
    assert post.external_id == "http://localhost:3000/ap/users/117020566092212359/statuses/117020593741189701"
    assert post.url == "http://localhost:3000/@mastodonpy_test_2/117020593741189701"
    assert post.text == "#hoot (hashtag toot)"
    assert post.title is None
    assert post.created_at == dt.datetime(2026, 8, 1, 13, 55, 55, 867000, tzinfo=dt.timezone.utc)
    assert post.created_at.utcoffset() == dt.timedelta(0)
    assert post.language == "ja"
    assert post.community == "med-mastodon.com"
    assert (post.reply_count, post.like_count, post.repost_count, post.quote_count) == (0, 0, 0, 0)
    assert post.view_count is None and post.score is None
    assert post.metrics_read_at == NOW
    assert post.has_media is False
    assert post.in_reply_to_id is None and post.quoted_id is None and post.reposted_id is None
    assert post.hashtags == ["hoot"]
    assert post.mentions == []
    assert post.links == []  # the only anchor is the hashtag
    assert json.loads(post.raw) == status and post.provenance == {"endpoint": "e"}  # the JSON as sent
    assert post.author_external_id == author.external_id == "http://localhost:3000/@mastodonpy_test_2"
    assert author.handle == "mastodonpy_test_2@localhost:3000"
    assert author.display_name is None and author.bio is None
    assert (author.followers, author.following) == (0, 0)
    assert author.url == "http://localhost:3000/@mastodonpy_test_2"
    assert json.loads(author.raw) == status["account"]


def test_entities_media_reply_quote_card_and_bio(fixtures_dir):
    status = copy.deepcopy(mr.recorded_status(fixtures_dir))
    status.update(
        content=('<p>New <a href="https://med.example/@ann" class="u-url mention">@<span>ann</span></a> paper '
                 '<a href="https://doi.org/10.1148/radiol.2024" rel="nofollow noopener" target="_blank">'
                 '<span class="invisible">https://</span><span class="ellipsis">doi.org/10.1148/radi</span>'
                 '<span class="invisible">ol.2024</span></a></p><p>line one<br />line &amp; two</p>'),
        spoiler_text="CW: imaging",
        mentions=[{"id": "1", "username": "ann", "acct": "ann@med.example", "url": "https://med.example/@ann"}],
        tags=[{"name": "radiology", "url": "x"}, {"name": "RadRes", "url": "y"}],
        card={"url": "https://pubs.rsna.org/doi/10.1148/radiol.2024", "title": "t"},
        media_attachments=[{"id": "9", "type": "image"}],
        in_reply_to_id="117020593741189000",
        replies_count=3, favourites_count=7, reblogs_count=2, quotes_count=1,
        quote={"state": "accepted", "quoted_status": {"uri": "https://med.example/users/ann/statuses/42"}},
    )
    status["account"] = {**status["account"], "note": "<p>Radiologist</p><p>Views mine</p>", "display_name": "Dr T",
                         "followers_count": 12, "following_count": 3}
    post, author = normalise_status(status, "mastodon.social", retrieved_at=NOW)
    assert post.text == "New @ann paper https://doi.org/10.1148/radiol.2024\n\nline one\nline & two"
    assert post.title == "CW: imaging"
    assert post.links == ["https://doi.org/10.1148/radiol.2024", "https://pubs.rsna.org/doi/10.1148/radiol.2024"]
    assert post.mentions == ["ann@med.example"]
    assert post.hashtags == ["radiology", "RadRes"]
    assert post.has_media is True
    assert post.in_reply_to_id == "117020593741189000"
    assert post.quoted_id == "https://med.example/users/ann/statuses/42"
    assert (post.reply_count, post.like_count, post.repost_count, post.quote_count) == (3, 7, 2, 1)
    assert author.bio == "Radiologist\n\nViews mine"
    assert (author.display_name, author.followers, author.following) == ("Dr T", 12, 3)


def test_every_recorded_status_normalises(fixtures_dir):
    statuses = recorded_statuses(fixtures_dir)
    assert len(statuses) >= 30
    posts, authors, rejected = normalise_page(statuses, "localhost:3000", retrieved_at=NOW)
    assert rejected == []
    assert len(posts) == len({s["uri"] for s in statuses})
    for post in posts:
        assert post.external_id.startswith("http://localhost:3000/") and post.created_at.tzinfo is not None
        assert "<" not in (post.text or "")
    assert {a.handle for a in authors} >= {"mastodonpy_test_2@localhost:3000"}


def test_fast_html_path_agrees_with_the_parser(fixtures_dir):
    contents = [s["content"] for s in recorded_statuses(fixtures_dir)] + [
        '<p>a<br>b</p><p><a href="https://x.org/a?b=1&amp;c=2">x.org</a> &lt;tag&gt;</p>',
        "<p>one</p><p>two</p><p>three</p>",
        '<p><span class="h-card"><a href="https://m.s/@x" class="u-url mention">@<span>x</span></a></span> hi</p>',
    ]
    for content in contents:
        assert html_to_text_and_links(content) == slow_html_to_text_and_links(content), content


def test_html_outside_the_fast_path_uses_the_parser():
    content = "<p>Findings:</p><ul><li>nodule <b>8 mm</b></li><li>no effusion</li></ul><blockquote>see <a href='https://pubmed.ncbi.nlm.nih.gov/1/'>PMID 1</a></blockquote>"
    text, links = html_to_text_and_links(content)
    assert text == "Findings:\n\nnodule 8 mm\n\nno effusion\n\nsee PMID 1"
    assert links == ["https://pubmed.ncbi.nlm.nih.gov/1/"]
    assert html_to_text("plain &amp; simple") == "plain & simple"
    assert html_to_text(None) == ""


def test_same_status_twice_in_a_page_keeps_the_largest_counts(fixtures_dir):
    a = copy.deepcopy(mr.recorded_status(fixtures_dir))
    b = copy.deepcopy(a)
    a.update(id="1", favourites_count=10, reblogs_count=1, replies_count=0)
    b.update(id="2", favourites_count=4, reblogs_count=5, replies_count=None)
    posts, _, _ = normalise_page([a, b], "x", retrieved_at=NOW)
    assert len(posts) == 1
    assert (posts[0].like_count, posts[0].repost_count, posts[0].reply_count) == (10, 5, 0)


def test_boost_stores_the_boosted_status_and_the_repost(fixtures_dir):
    original = mr.recorded_status(fixtures_dir)
    booster = {**original["account"], "acct": "bob@other.example", "url": "https://other.example/@bob"}
    boost = {**original, "id": "555", "uri": "https://other.example/users/bob/statuses/555/activity",
             "url": None, "content": "", "reblog": original, "account": booster}
    posts, authors, rejected = normalise_page([boost], "med-mastodon.com", retrieved_at=NOW)
    assert rejected == []
    by_id = {p.external_id: p for p in posts}
    assert by_id[original["uri"]].text == "#hoot (hashtag toot)"
    repost = by_id["https://other.example/users/bob/statuses/555/activity"]
    assert repost.reposted_id == original["uri"] and repost.text is None
    assert repost.author_external_id == "https://other.example/@bob"
    assert {a.external_id for a in authors} == {"https://other.example/@bob", "http://localhost:3000/@mastodonpy_test_2"}


def test_unusable_status_is_quarantined_and_the_rest_kept(fixtures_dir):
    good = mr.recorded_status(fixtures_dir)
    bad = {k: v for k, v in good.items() if k != "uri"}
    worse = {**good, "uri": "https://x/1", "created_at": None}
    posts, _, rejected = normalise_page([bad, good, worse], "x", retrieved_at=NOW)
    assert [p.external_id for p in posts] == [good["uri"]]
    assert [q.error for q in rejected] == ["ValueError: status has no uri",
                                          "ValueError: created_at is missing or not a timestamp: None"]
    assert rejected[1].external_id == "https://x/1" and rejected[0].raw == bad


@pytest.mark.parametrize("length", [MAX_ID_LENGTH, MAX_ID_LENGTH + 1])
def test_external_id_is_the_uri_or_its_hash(length):
    uri = "https://a.example/" + "x" * (length - len("https://a.example/"))
    key = status_external_id(uri)
    assert len(key) <= MAX_ID_LENGTH
    assert (key == uri) is (length <= MAX_ID_LENGTH)
    assert status_external_id(uri) == key


def test_statuses_are_read_from_the_json_as_sent_and_stored_byte_for_byte(fixtures_dir):
    """The instance's own JSON is the raw payload; a malformed status is quarantined with the path."""
    status = mr.recorded_status(fixtures_dir)
    sent = json.dumps([status, {**status, "uri": "https://x/2", "content": 5}], indent=1).encode()
    statuses = decode_statuses(sent)
    assert [json.loads(bytes(s)) for s in statuses][0] == status
    posts, authors, rejected = normalise_page(statuses, "x", retrieved_at=NOW)
    assert [p.external_id for p in posts] == [status["uri"]]
    assert posts[0].raw == bytes(statuses[0]) and json.loads(authors[0].raw) == status["account"]
    assert rejected[0].error == ("ValueError: status does not match the Mastodon API: "
                                 "Expected `str | null`, got `int` - at `$.content`")
    assert rejected[0].external_id == "https://x/2" and rejected[0].raw["content"] == 5
    with pytest.raises(NotJSON):
        decode_statuses(b'[{"uri": ')
    with pytest.raises(ValueError, match=re.escape("Expected `array`, got `object`")):
        decode_statuses(b'{"error": "rate limited"}')


def test_a_status_that_is_not_utf8_is_quarantined_not_stored(fixtures_dir):
    status = mr.recorded_status(fixtures_dir)
    bad = json.dumps({**status, "uri": "https://x/bad"}).encode().replace(b'"emojis"', b'"\xc3(": 1, "emojis"', 1)
    statuses = decode_statuses(b"[" + json.dumps(status).encode() + b"," + bad + b"]")
    posts, _, rejected = normalise_page(statuses, "x", retrieved_at=NOW)
    assert [p.external_id for p in posts] == [status["uri"]]
    assert rejected[0].error.startswith("ValueError: the payload is not valid UTF-8 (byte 0xc3 at offset ")


def test_a_runs_memo_reads_each_account_once(fixtures_dir):
    """Pages of one run share `known_authors` (by the account's JSON as sent): the same account on
    a later page is the same record, not read again; an account whose JSON changed is read."""
    status = next(s for s in recorded_statuses(fixtures_dir) if not s.get("reblog"))
    first, second, third = (copy.deepcopy(status) for _ in range(3))
    for k, s in enumerate((first, second, third)):
        s["id"], s["uri"] = str(k), f"{status['uri']}-{k}"
    third["account"]["followers_count"] = 12345
    pages = [orjson.dumps([s]) for s in (first, second, third)]
    known: dict = {}
    authors = [normalise_page(decode_statuses(p), "x", retrieved_at=NOW, known_authors=known)[1][0] for p in pages]
    assert authors[1] is authors[0] and authors[2] is not authors[0]
    assert authors[2].followers == 12345 and len(known) == 2
    fresh = normalise_page(decode_statuses(pages[1]), "x", retrieved_at=NOW)[1][0]
    assert fresh is not authors[0] and fresh == authors[0]
