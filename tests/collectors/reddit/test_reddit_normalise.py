"""Pure normalisation of Reddit JSON dicts (no client, no database)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from reddit_replay import cassette_body

from radpulse.collectors.reddit.normalise import (
    comment_is_deleted,
    extract_links,
    extract_mentions,
    has_media,
    keyword_pattern,
    matches_keywords,
    normalise_comment,
    normalise_submission,
    normalise_things,
    submission_is_deleted,
)

READ_AT = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def _listing(fixtures_dir, name: str, path: str) -> list[dict[str, Any]]:
    return cassette_body(fixtures_dir, name, path)["data"]["children"]


def test_links_from_markdown_are_expanded_in_order_without_duplicates() -> None:
    text = (
        "See [the paper](https://doi.org/10.1148/radiol.2021204164) and "
        "https://pubmed.ncbi.nlm.nih.gov/12345678/. Also (https://en.wikipedia.org/wiki/CT_(disambiguation)) "
        "and <https://example.org/a?b=1&c=2>, again https://doi.org/10.1148/radiol.2021204164"
    )
    assert extract_links(text) == [
        "https://doi.org/10.1148/radiol.2021204164",
        "https://pubmed.ncbi.nlm.nih.gov/12345678/",
        "https://en.wikipedia.org/wiki/CT_(disambiguation)",
        "https://example.org/a?b=1&c=2",
    ]
    assert extract_links("no links here") == []
    assert extract_links(None) == []


def test_mentions() -> None:
    assert extract_mentions("thanks u/rad_doc and /u/Other-One, not mu/x") == [
        "rad_doc",
        "Other-One",
    ]


def test_selftext_of_a_real_submission_gives_its_links(fixtures_dir) -> None:
    listing = cassette_body(fixtures_dir, "TestSubmission.test_comments.json", "/comments/")
    data = listing[0]["data"]["children"][0]["data"]
    post, author = normalise_submission(data, read_at=READ_AT, provenance=None)
    assert post.links == ["https://github.com/praw-dev/praw/issues"]  # the only URL in its markdown
    assert post.text == data["selftext"] and post.title == data["title"]
    assert author is not None and author.handle == "bboe" and author.external_id == "bboe"


def test_link_post_keeps_its_outbound_url_and_media(fixtures_dir) -> None:
    listing = cassette_body(fixtures_dir, "TestCommentForest.test_replace__all.json", "/comments/")
    data = listing[0]["data"]["children"][0]["data"]
    post, _ = normalise_submission(data, read_at=READ_AT, provenance=None)
    assert post.links == [data["url"]] == ["http://i.imgur.com/eoF76hj.gifv"]
    assert post.has_media is True  # post_hint rich:video
    assert post.text is None  # an empty selftext is no text


def test_deleted_and_removed_markers() -> None:
    assert submission_is_deleted({"selftext": "[removed]"})
    assert submission_is_deleted({"selftext": "[deleted]"})
    assert submission_is_deleted({"removed_by_category": "moderator", "selftext": "kept"})
    assert submission_is_deleted({"author": "[deleted]", "selftext": "body"})
    assert not submission_is_deleted(
        {"author": "someone", "selftext": "fine", "removed_by_category": None}
    )
    assert comment_is_deleted({"body": "[deleted]"}) and not comment_is_deleted(
        {"body": "ok", "author": "x"}
    )
    assert (
        has_media({"is_video": True})
        and has_media({"post_hint": "image"})
        and has_media({"is_gallery": True})
    )
    assert has_media({"domain": "i.redd.it"}) and has_media({"url": "http://i.imgur.com/x.GIFV"})
    assert not has_media(
        {"post_hint": "link", "media": None, "url": "https://doi.org/10.1/x.png.html"}
    )
    assert not has_media({"is_self": True, "url": "https://www.reddit.com/r/x/comments/1/a.png"})


def test_removed_submission_is_deleted_with_no_text(fixtures_dir) -> None:
    data = dict(_listing(fixtures_dir, "TestSubredditListings.test_new.json", "/new")[3]["data"])
    data.update(selftext="[removed]", removed_by_category="moderator", author="[deleted]")
    post, author = normalise_submission(data, read_at=READ_AT, provenance=None)
    assert post.is_deleted and post.text is None and post.title is None
    assert author is None and post.author_external_id is None


def test_crosspost_points_at_its_parent(fixtures_dir) -> None:
    data = dict(_listing(fixtures_dir, "TestSubredditListings.test_new.json", "/new")[1]["data"])
    data.update(crosspost_parent="t3_abc", num_crossposts=4)
    post, _ = normalise_submission(data, read_at=READ_AT, provenance=None)
    assert post.reposted_id == "t3_abc" and post.repost_count == 4


def test_author_fullname_is_the_author_id_when_present(fixtures_dir) -> None:
    data = dict(_listing(fixtures_dir, "TestSubredditListings.test_new.json", "/new")[0]["data"])
    data["author_fullname"] = "t2_abc123"
    post, author = normalise_submission(data, read_at=READ_AT, provenance=None)
    assert post.author_external_id == author.external_id == "t2_abc123"
    assert (
        author.handle == data["author"]
        and author.url == f"https://www.reddit.com/user/{data['author']}"
    )


def test_comment_fields(fixtures_dir) -> None:
    listing = cassette_body(fixtures_dir, "TestSubmission.test_comments.json", "/comments/")
    top = listing[1]["data"]["children"][0]["data"]
    post, _ = normalise_comment(top, read_at=READ_AT, provenance=None)
    assert post.external_id == top["name"] == "t1_cklfmye"
    assert post.in_reply_to_id == "t3_2gmzqe" and post.conversation_id == "t3_2gmzqe"
    assert post.text == top["body"] and post.title is None
    assert post.created_at == dt.datetime.fromtimestamp(top["created_utc"], dt.UTC)
    assert post.score == top["score"] and post.like_count == top["ups"]
    assert post.url.startswith("https://www.reddit.com/") and "cklfmye" in post.url


def test_items_missing_required_fields_are_quarantined_and_the_rest_kept(fixtures_dir) -> None:
    things = _listing(fixtures_dir, "TestSubredditListings.test_new.json", "/new")[:5]
    broken = {
        "kind": "t3",
        "data": {k: v for k, v in things[1]["data"].items() if k != "created_utc"},
    }
    wrong_kind = {"kind": "t5", "data": {"name": "t5_xyz"}}
    posts, authors, bad = normalise_things(
        [things[0], broken, things[2], "junk", wrong_kind],
        read_at=READ_AT,
        provenance=None,
        kinds=("t3",),
    )
    assert [p.external_id for p in posts] == [things[0]["data"]["name"], things[2]["data"]["name"]]
    assert [q.external_id for q in bad] == [things[1]["data"]["name"], None, "t5_xyz"]
    assert "created_utc" in bad[0].error and bad[0].raw is broken
    assert "unexpected kind 't5'" in bad[2].error
    assert len(authors) == 2


def test_keyword_filter_matches_whole_words_case_insensitively() -> None:
    pattern = keyword_pattern(["radiology", "rads", "diagnostic radiology", "IR residency"])
    assert matches_keywords({"title": "Thinking about Radiology?", "selftext": ""}, pattern)
    assert matches_keywords(
        {"title": "x", "selftext": "is DIAGNOSTIC  radiology worth it"}, pattern
    )
    assert matches_keywords({"title": "Rads or IM?", "selftext": None}, pattern)
    assert matches_keywords({"title": "IR residency interviews", "selftext": ""}, pattern)
    assert not matches_keywords(
        {"title": "radiologyx and nonrads", "selftext": "irradiation"}, pattern
    )
    assert not matches_keywords({"title": "Step 1 advice", "selftext": ""}, pattern)
    assert keyword_pattern([]) is None and matches_keywords({"title": "anything"}, None)
