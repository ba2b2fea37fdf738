"""Collection through the real praw client, replaying recorded Reddit payloads at the HTTP layer."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from reddit_replay import (
    FakeSubreddit,
    cassette_body,
    distinct_things,
    reddit_settings,
    subreddit_spec,
)

from radpulse.collectors.reddit import RedditCollector
from radpulse.collectors.registry import get_collector
from radpulse.records import Batch

UTC = dt.UTC


def collect(settings, spec, cursor=None) -> list[Batch]:
    collector = RedditCollector(settings)
    try:
        return list(collector.collect(spec, cursor))
    finally:
        collector.close()


def posts_of(batches: list[Batch]):
    return [p for b in batches for p in b.posts]


def test_registered_for_reddit() -> None:
    assert get_collector("reddit") is RedditCollector
    assert RedditCollector.required_env == ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET")


def test_new_listing_every_field_against_the_payload(replay, new_listing) -> None:
    replay.json("GET", "/r/Radiology/new", new_listing)
    batches = collect(reddit_settings({"limit_per_run": 100}), subreddit_spec())

    children = new_listing["data"]["children"]
    assert len(batches) == 1
    batch = batches[0]
    assert batch.fetched == 100 and not batch.quarantined
    assert replay.requests_to("/r/Radiology/new") == [{"limit": ["100"], "raw_json": ["1"]}]
    assert replay.log[0][1] == "/api/v1/access_token"
    for post, child in zip(batch.posts, children, strict=True):
        d = child["data"]
        assert post.platform == "reddit"
        assert post.external_id == d["name"] == f"t3_{d['id']}"
        assert post.title == d["title"]
        assert post.text == (d["selftext"] or None)
        assert post.url == "https://www.reddit.com" + d["permalink"]
        assert post.community == d["subreddit"] == "AskReddit"
        assert post.created_at == dt.datetime.fromtimestamp(d["created_utc"], UTC)
        assert post.created_at.tzinfo is UTC
        assert (
            post.score == d["score"]
            and post.reply_count == d["num_comments"]
            and post.like_count == d["ups"]
        )
        assert post.repost_count is None and post.view_count is None and post.quote_count is None
        assert post.language is None and post.hashtags == []
        assert post.author_external_id == d["author"]  # 2016 payloads carry no author_fullname
        assert post.has_media is bool(
            d["media"] or d.get("post_hint") in ("image", "rich:video", "hosted:video")
        )
        assert post.is_deleted is (
            d["author"] == "[deleted]" or d["selftext"] in ("[deleted]", "[removed]")
        )
        expected_links = [] if d["is_self"] else [d["url"]]
        assert post.links[: len(expected_links)] == expected_links
        assert post.raw is d or post.raw == d
        assert post.provenance["endpoint"] == "/r/Radiology/new"
        assert post.provenance["client"].startswith("praw ")
        assert post.metrics_read_at is not None and post.metrics_read_at.tzinfo is not None
        assert post.in_reply_to_id is None and post.conversation_id is None
    authors = {a.external_id: a for a in batch.authors}
    assert set(authors) == {
        c["data"]["author"] for c in children if c["data"]["author"] != "[deleted]"
    }
    first = children[0]["data"]
    assert batch.cursor == {"fullname": first["name"], "created_utc": first["created_utc"]}


def test_empty_listing(replay, fixtures_dir) -> None:
    empty = cassette_body(fixtures_dir, "TestListingGenerator.test_no_items.json", "/user/spez")
    replay.json("GET", "/r/Radiology/new", empty)
    assert collect(reddit_settings(), subreddit_spec()) == []
    assert len(replay.requests_to("/r/Radiology/new")) == 1


def test_first_run_pages_down_and_stores_the_top_as_cursor_only_at_the_end(
    replay, new_listing
) -> None:
    sub = FakeSubreddit(distinct_things(new_listing["data"]["children"], 3))
    replay.on("GET", "/r/Radiology/new", sub)
    batches = collect(reddit_settings(), subreddit_spec())

    names = sub.names()
    assert [len(b.posts) for b in batches] == [100, 100, 100, 0]
    assert [p.external_id for p in posts_of(batches)] == names
    top = {"fullname": names[0], "created_utc": sub.things[0]["data"]["created_utc"]}
    # pages in flight only record the walk's progress; the top becomes the cursor at the end
    assert [b.cursor.get("walk", {}).get("after") for b in batches[:3]] == [
        names[99],
        names[199],
        names[299],
    ]
    assert all(b.cursor.get("fullname") is None for b in batches[:3])
    assert batches[-1].cursor == top
    assert [p.get("after") for p in replay.requests_to("/r/Radiology/new")] == [
        None,
        [names[99]],
        [names[199]],
        [names[299]],
    ]


def test_next_run_reads_only_newer_pages_and_advances_the_cursor_page_by_page(
    replay, new_listing
) -> None:
    things = distinct_things(new_listing["data"]["children"], 4)
    sub = FakeSubreddit(things[150:])  # 250 already there
    replay.on("GET", "/r/Radiology/new", sub)
    settings = reddit_settings()
    first = collect(settings, subreddit_spec())
    cursor = first[-1].cursor
    assert cursor["fullname"] == things[150]["data"]["name"]

    for t in things[:150]:  # 150 new submissions arrive
        sub.add(t)
    second = collect(settings, subreddit_spec(), cursor)
    new_names = [t["data"]["name"] for t in things[:150]]
    assert sorted(p.external_id for p in posts_of(second)) == sorted(new_names)
    assert [len(b.posts) for b in second] == [100, 50]  # oldest page first
    assert second[0].cursor == {
        "fullname": new_names[50],
        "created_utc": things[50]["data"]["created_utc"],
    }
    assert second[1].cursor == {
        "fullname": new_names[0],
        "created_utc": things[0]["data"]["created_utc"],
    }
    calls = replay.requests_to("/r/Radiology/new")[-2:]
    assert [c["before"] for c in calls] == [[things[150]["data"]["name"]], [new_names[50]]]

    # nothing new: one `before` call answers empty, one walk page confirms, nothing is stored
    third = collect(settings, subreddit_spec(), second[-1].cursor)
    assert third == []


def test_deleted_cursor_post_falls_back_to_walking_down_to_its_time(replay, new_listing) -> None:
    things = distinct_things(new_listing["data"]["children"], 1)
    sub = FakeSubreddit(things[5:])
    replay.on("GET", "/r/Radiology/new", sub)
    settings = reddit_settings()
    cursor = collect(settings, subreddit_spec())[-1].cursor
    assert cursor["fullname"] == things[5]["data"]["name"]

    sub.remove(cursor["fullname"])  # the newest seen post is deleted by its author
    for t in things[:5]:
        sub.add(t)
    batches = collect(settings, subreddit_spec(), cursor)
    assert [p.external_id for p in posts_of(batches)] == [t["data"]["name"] for t in things[:5]]
    assert batches[-1].cursor == {
        "fullname": things[0]["data"]["name"],
        "created_utc": things[0]["data"]["created_utc"],
    }
    calls = replay.requests_to("/r/Radiology/new")[-2:]
    assert (
        calls[0]["before"] == [cursor["fullname"]]
        and "before" not in calls[1]
        and "after" not in calls[1]
    )


def test_deleted_cursor_post_with_nothing_new_reanchors_on_the_next_older_post(
    replay, new_listing
) -> None:
    things = distinct_things(new_listing["data"]["children"], 1)[:20]
    sub = FakeSubreddit(things)
    replay.on("GET", "/r/Radiology/new", sub)
    settings = reddit_settings()
    cursor = collect(settings, subreddit_spec())[-1].cursor
    sub.remove(cursor["fullname"])
    batches = collect(settings, subreddit_spec(), cursor)
    assert posts_of(batches) == []
    assert (
        batches[-1].cursor["fullname"] == things[1]["data"]["name"]
    )  # `before` works again next time


def test_limit_per_run_bounds_the_walk(replay, new_listing) -> None:
    sub = FakeSubreddit(distinct_things(new_listing["data"]["children"], 3))
    replay.on("GET", "/r/Radiology/new", sub)
    batches = collect(reddit_settings({"limit_per_run": 150}), subreddit_spec())
    assert [len(b.posts) for b in batches] == [100, 50]
    assert [p["limit"] for p in replay.requests_to("/r/Radiology/new")] == [["100"], ["50"]]
    assert batches[-1].cursor["fullname"] == sub.names()[0]


def test_keyword_filter_keeps_only_matching_submissions(replay, new_listing) -> None:
    listing = copy.deepcopy(new_listing)
    children = listing["data"]["children"][:10]
    listing["data"]["children"] = children
    children[2]["data"]["title"] = "Is diagnostic radiology still a good specialty?"
    children[5]["data"]["selftext"] = "Matched into IR residency, AMA"
    children[7]["data"]["title"] = "Rads vs anesthesia"
    children[8]["data"]["title"] = "irradiated food question"  # not a whole-word match
    replay.json("GET", "/r/medicalschool/new", listing)
    spec = subreddit_spec("medicalschool", keywords=["radiology", "rads", "IR residency"])
    batches = collect(reddit_settings({"limit_per_run": 100}), spec)
    kept = [p.external_id for p in posts_of(batches)]
    assert kept == [children[i]["data"]["name"] for i in (2, 5, 7)]
    assert batches[0].fetched == 10
    assert (
        batches[-1].cursor["fullname"] == children[0]["data"]["name"]
    )  # filtered posts still advance


def test_comments_of_high_scoring_submissions(replay, fixtures_dir) -> None:
    replay.add_cassette(fixtures_dir, "TestSubmission.test_comments.json")
    thread = cassette_body(fixtures_dir, "TestSubmission.test_comments.json", "/comments/")
    submission = thread[0]["data"]["children"][0]
    listing = {"kind": "Listing", "data": {"children": [submission], "after": None, "before": None}}
    replay.json("GET", "/r/redditdev/new", listing)
    spec = subreddit_spec("redditdev", comments=True)

    below = collect(reddit_settings({"comments_min_score": submission["data"]["score"] + 1}), spec)
    assert [p.external_id for p in posts_of(below)] == ["t3_2gmzqe"]
    assert replay.requests_to("/comments/2gmzqe") == []

    batches = collect(reddit_settings({"comments_min_score": submission["data"]["score"]}), spec)
    posts = {p.external_id: p for p in posts_of(batches)}
    assert set(posts) == {"t3_2gmzqe", "t1_cklfmye", "t1_cklhv0f"}
    top = thread[1]["data"]["children"][0]["data"]
    reply = top["replies"]["data"]["children"][0]["data"]
    for data in (top, reply):
        c = posts[data["name"]]
        assert c.text == data["body"] and c.author_external_id == data["author"]
        assert c.in_reply_to_id == data["parent_id"] and c.conversation_id == "t3_2gmzqe"
        assert c.created_at == dt.datetime.fromtimestamp(data["created_utc"], UTC)
        assert (
            c.score == data["score"] and c.like_count == data["ups"] and c.community == "redditdev"
        )
        assert (
            c.raw["body"] == data["body"]
            and c.raw["author"] == data["author"]
            and "replies" not in c.raw
        )
        assert c.provenance["endpoint"] == "/comments/2gmzqe"
    assert posts["t1_cklhv0f"].in_reply_to_id == "t1_cklfmye"
    assert {a.handle for a in batches[0].authors} == {"bboe", "paneer_burrito"}


def _big_thread(replay, fixtures_dir, cassette: str) -> dict[str, Any]:
    replay.add_cassette(fixtures_dir, cassette)
    thread = cassette_body(fixtures_dir, cassette, "/comments/3hahrw")
    submission = thread[0]["data"]["children"][0]
    replay.json(
        "GET",
        "/r/funny/new",
        {"kind": "Listing", "data": {"children": [submission], "after": None}},
    )
    return thread


def test_replace_more_is_bounded_by_the_setting(replay, fixtures_dir) -> None:
    thread = _big_thread(replay, fixtures_dir, "TestCommentForest.test_replace__all.json")
    spec = subreddit_spec("funny", comments=True)
    inline = sum(1 for _ in _comment_names(thread[1]["data"]["children"]))

    none = collect(reddit_settings({"replace_more_limit": 0}), spec)
    assert replay.requests_to("/api/morechildren") == []
    assert len(posts_of(none)) == 1 + inline

    batches = collect(reddit_settings({"replace_more_limit": 3}), spec)
    more_calls = replay.requests_to("/api/morechildren")
    assert len(more_calls) == 3  # the three largest MoreComments, one request each
    assert all(c["link_id"] == ["t3_3hahrw"] for c in more_calls)
    comments = [p for p in posts_of(batches) if p.external_id.startswith("t1_")]
    assert len(comments) > inline
    assert len({p.external_id for p in comments}) == len(comments)
    assert all(p.conversation_id == "t3_3hahrw" and p.in_reply_to_id for p in comments)
    expanded = set().union(*(set(c["children"][0].split(",")) for c in more_calls))
    assert {f"t1_{cid}" for cid in expanded} & {p.external_id for p in comments}


def _comment_names(children):
    for child in children:
        if child["kind"] == "t1":
            yield child["data"]["name"]
            replies = child["data"].get("replies")
            if replies:
                yield from _comment_names(replies["data"]["children"])


def test_pacing_spaces_requests_to_the_budget(replay, new_listing, sleeps) -> None:
    sub = FakeSubreddit(distinct_things(new_listing["data"]["children"], 3))
    replay.on("GET", "/r/Radiology/new", sub)
    collect(reddit_settings({"requests_per_minute": 6}), subreddit_spec())
    # 6 per minute: a burst of 1, then one request every 10 s (token + 4 pages = 4 waits)
    waits = [s for s in sleeps if s > 1]
    assert len(waits) == 4 and all(9 < w <= 10 for w in waits)


def test_authors_are_sent_once_per_collector_after_their_batch_was_committed(
    replay, new_listing
) -> None:
    things = distinct_things(new_listing["data"]["children"], 2)  # the same 100 authors twice
    replay.on("GET", "/r/Radiology/new", FakeSubreddit(things))
    collector = RedditCollector(reddit_settings())
    authors = {t["data"]["author"] for t in things if t["data"]["author"] != "[deleted]"}

    gen = collector.collect(subreddit_spec(), None)
    first = next(gen)
    gen.close()  # the runner never resumed: the batch was not committed
    again = list(collector.collect(subreddit_spec(), None))
    assert (
        {a.external_id for a in first.authors}
        == {a.external_id for a in again[0].authors}
        == authors
    )
    assert again[1].authors == []  # already stored with the first page
    assert all(p.author_external_id in authors for p in again[1].posts if not p.is_deleted)


@pytest.mark.filterwarnings("ignore:The praw.ini in the current working directory")
def test_client_is_read_only_whatever_praw_ini_or_praw_variables_say(
    monkeypatch, tmp_path, replay, new_listing
) -> None:
    (tmp_path / "praw.ini").write_text(
        "[DEFAULT]\nusername = someone\npassword = secret\noauth_url = https://evil.example\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("praw_username", "someone")
    monkeypatch.setenv("praw_password", "secret")
    replay.json("GET", "/r/Radiology/new", new_listing)
    collector = RedditCollector(reddit_settings({"limit_per_run": 100}))
    assert collector.reddit.read_only is True
    assert len(collect(reddit_settings({"limit_per_run": 100}), subreddit_spec())[0].posts) == 100
    token_request = replay.requests_to("/api/v1/access_token")[0]
    assert token_request["grant_type"] == ["client_credentials"]  # not a password grant
