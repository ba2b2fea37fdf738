"""The deletion sweep: an old post deleted at the source is purged, in batches, outside the refresh window."""

from __future__ import annotations

import datetime as dt

import responses
from click.testing import CliRunner
from sqlalchemy import select
from xreplay import LOOKUP_URL, add_source, body, query_params, serve_json, stored_posts, x_settings

from radpulse.cli.main import cli
from radpulse.collectors.deletion_sweep import posts_due_for_deletion_check, sweep_deletions
from radpulse.collectors.runner import refresh_platforms, run_source
from radpulse.collectors.x import XCollector
from radpulse.db.models import CollectionRun
from radpulse.records import utcnow


def _collect_old_posts(db, fixtures_dir) -> list[str]:  # type: ignore[no-untyped-def]
    """Six real recorded tweets (from 2021, far outside the 7-day refresh window), stored."""
    search = body(fixtures_dir, "apis_searches_search_tweets_query.json")
    with responses.RequestsMock() as rsps:
        serve_json(rsps, search)
        run_source(db, XCollector(x_settings()), add_source(db))
    return [t["id"] for t in search["data"]]


def _lookup_answer(fixtures_dir, asked: set[str], gone: str):  # type: ignore[no-untyped-def]
    """X's answer to a lookup of `asked`: the recorded tweets still there, a not-found error for `gone`."""
    search = body(fixtures_dir, "apis_searches_search_tweets_query.json")
    metrics = {"retweet_count": 1, "reply_count": 0, "like_count": 2, "quote_count": 0}  # asked for: tweet.fields
    return {"data": [{**t, "public_metrics": metrics} for t in search["data"] if t["id"] in asked and t["id"] != gone],
            "includes": search["includes"],
            "errors": [{"value": gone, "detail": f"Could not find tweet with ids: [{gone}].",
                        "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids",
                        "resource_id": gone, "type": "https://api.twitter.com/2/problems/resource-not-found"}]
            if gone in asked else []}


def test_sweep_marks_an_old_post_deleted_at_the_source(db, fixtures_dir):
    ids = _collect_old_posts(db, fixtures_dir)
    assert len(ids) == 4
    settings = x_settings()
    settings.refresh.deletion_batch = 3
    assert settings.refresh.max_age_days == 7 and settings.refresh.deletion_sweep_days == 30
    assert all(p.metrics_read_at is None for p in stored_posts(db).values())  # no metrics in these pages

    # the engagement refresh does not look at posts this old (2020): a deletion would go unnoticed
    with responses.RequestsMock() as rsps:
        (refreshed,) = refresh_platforms(db, settings, ["x"])
        assert len(rsps.calls) == 0
    assert refreshed.fetched == 0

    now = utcnow()
    first_batch = {r.external_id for r in posts_due_for_deletion_check(db, "x", settings, now)}
    assert len(first_batch) == 3  # one batch, not all four
    gone = sorted(first_batch)[0]

    with responses.RequestsMock() as rsps:
        serve_json(rsps, _lookup_answer(fixtures_dir, first_batch, gone), url=LOOKUP_URL)
        (first,) = sweep_deletions(db, settings, ["x"])
        asked = set(query_params(rsps.calls[0])["ids"].split(","))
    assert asked == first_batch and first.source == "sweep:x" and first.status == "success"
    after = stored_posts(db)
    assert after[gone].is_deleted and after[gone].text is None and after[gone].raw is None
    assert after[gone].deleted_at is not None
    assert all(not after[i].is_deleted and after[i].text for i in ids if i != gone)

    # the next run moves on to the post not checked yet; after it nothing is due for 30 days
    rest = set(ids) - first_batch
    assert {r.external_id for r in posts_due_for_deletion_check(db, "x", settings, now)} == rest
    with responses.RequestsMock() as rsps:
        serve_json(rsps, _lookup_answer(fixtures_dir, rest, gone), url=LOOKUP_URL)
        (second,) = sweep_deletions(db, settings, ["x"])
        assert set(query_params(rsps.calls[0])["ids"].split(",")) == rest
    assert second.status == "success"
    assert posts_due_for_deletion_check(db, "x", settings, now) == []
    assert posts_due_for_deletion_check(db, "x", settings, now + dt.timedelta(days=29)) == []
    month = {r.external_id for r in posts_due_for_deletion_check(db, "x", settings, now + dt.timedelta(days=31))}
    assert len(month) == 3 and gone not in month  # the live posts, again, a month later
    with responses.RequestsMock() as rsps:  # a run with nothing due reads nothing
        (third,) = sweep_deletions(db, settings, ["x"])
        assert len(rsps.calls) == 0
    assert third.fetched == 0
    with db.session() as s:
        assert s.scalars(select(CollectionRun.task).where(CollectionRun.source_name == "sweep:x")).all() == [
            "sweep"] * 3


def test_sweep_can_be_turned_off(db, fixtures_dir):
    _collect_old_posts(db, fixtures_dir)
    settings = x_settings()
    settings.refresh.deletion_sweep_days = 0
    with responses.RequestsMock() as rsps:
        assert sweep_deletions(db, settings, ["x"]) == []
        assert len(rsps.calls) == 0
    assert posts_due_for_deletion_check(db, "x", settings, dt.datetime(2100, 1, 1, tzinfo=dt.UTC)) == []


def test_cli_offers_the_sweep() -> None:
    assert "--deletion-sweep" in CliRunner().invoke(cli, ["collect", "--help"]).output
    result = CliRunner().invoke(cli, ["run", "--once", "--job", "sweeps"])
    assert result.exit_code == 2 and "'sweep'" in result.output
