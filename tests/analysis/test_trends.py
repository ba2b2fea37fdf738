"""Stored trends (analysis/trends.py): the stored emerging terms equal `emerging_terms` on the same
posts for any end day and choice of platforms; the stored topics are the topic model's; the
analysis job fills both and keeps them fresh; held and deleted posts never count."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest
from sqlalchemy import func, insert, select, update

from radpulse.analysis.discovery import TopicDiscovery, emerging_terms
from radpulse.analysis.pipeline import ANNOTATOR_NAME
from radpulse.analysis.store import analyze
from radpulse.analysis.trends import (
    MIN_AUTHORS,
    rebuild_trends,
    refresh_stale_trends,
    stored_emerging,
    stored_topics,
    week_topics,
)
from radpulse.db.models import Annotation, Post, TrendStaleDay, TrendTerm, TrendTopic
from radpulse.db.queries import PostFilters, author_key, public_where
from radpulse.db.rollups import mark_days
from radpulse.db.store import upsert_posts
from radpulse.records import PostRecord

LAST = dt.date(2026, 11, 20)
PLATFORMS = ("x", "reddit", "mastodon")
WORDS = ["scanner", "contrast", "nodule", "stroke", "mammography", "fellowship", "protocol", "dose", "ultrasound",
         "biopsy", "workflow", "residents", "gadolinium", "photon", "counting", "lung", "screening", "burnout"]
TAGS = ["RSNA2026", "PhotonCounting", "LungScreening", "RadRes", "HealthPolicy"]


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.timezone.utc)


def _records(seed: int = 3) -> list[PostRecord]:
    """Seven weeks of posts on three platforms: random chatter, a burst in the last week (a new
    term and hashtag, some platforms only), terms covered by hashtags on one platform only,
    hashtags in sequence (no bridged bigram), and accounts shared between platforms' ids."""
    rng = random.Random(seed)
    out = []
    for i in range(900):
        day = LAST - dt.timedelta(days=rng.randrange(0, 49))
        platform = rng.choice(PLATFORMS)
        words = " ".join(rng.sample(WORDS, 3))
        tags = " ".join("#" + t for t in rng.sample(TAGS, rng.randrange(0, 3)))
        out.append(PostRecord(platform, f"r{i}", f"{words}. {tags}", _at(day, rng.randrange(24)),
                              author_external_id=f"u{rng.randrange(40)}"))
    for i in range(8):  # the burst: a new word covered by its hashtag on x, not on mastodon
        out.append(PostRecord("x", f"g{i}", "the gleamotron scanner arrived #Gleamotron", _at(LAST - dt.timedelta(days=i % 5)),
                              author_external_id=f"g{i}"))
    for i in range(4):
        out.append(PostRecord("mastodon", f"gm{i}", "a gleamotron for the department", _at(LAST - dt.timedelta(days=2)),
                              author_external_id=f"g{i}"))
        out.append(PostRecord("mastodon", f"gt{i}", "#Gleamotron day", _at(LAST - dt.timedelta(days=3)),
                              author_external_id=f"t{i}"))
    for i in range(6):  # hashtags in sequence
        out.append(PostRecord("reddit", f"h{i}", "Big week ahead #HealthPolicy #RSNA2026", _at(LAST - dt.timedelta(days=1)),
                              author_external_id=f"h{i}"))
    for i in range(5):  # held (flagged) and deleted posts: never counted
        out.append(PostRecord("x", f"held{i}", "smithsonian patient details leaked", _at(LAST - dt.timedelta(days=2)),
                              author_external_id=f"s{i}"))
        out.append(PostRecord("x", f"del{i}", "deletedword appears here", _at(LAST - dt.timedelta(days=2)),
                              author_external_id=f"d{i}", is_deleted=True))
    return out


@pytest.fixture
def trend_db(db):
    with db.engine.begin() as conn:
        ids = upsert_posts(conn, _records()).ids
        conn.execute(insert(Annotation), [
            {"post_id": ids[("x", f"held{i}")], "model_name": ANNOTATOR_NAME, "model_version": "1",
             "flags": ["privacy_risk"], "subspecialties": [], "themes": [], "annotated_at": _at(LAST)} for i in range(5)])
    return db


def _frame(db, platforms=()) -> pd.DataFrame:
    """The public posts as `emerging_terms` reads them on the fly."""
    p = Post.__table__.c
    q = select(p.created_at, author_key(p), func.coalesce(p.title + "\n" + p.text, p.text, p.title), p.hashtags).where(
        public_where(PostFilters(platforms=platforms), p))
    with db.engine.connect() as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=["created_at", "author", "text", "hashtags"])


COLUMNS = ["term", "kind", "authors", "baseline", "posts", "score", "new", "folded"]


@pytest.mark.parametrize("platforms", [(), ("x",), ("mastodon",), ("x", "mastodon"), ("reddit", "x")])
def test_stored_emerging_terms_equal_the_computation_on_the_posts(trend_db, platforms):
    rebuild_trends(trend_db)
    frame = _frame(trend_db, platforms)
    for end in (LAST, LAST - dt.timedelta(days=3), LAST - dt.timedelta(days=10)):
        stored = stored_emerging(trend_db, end, platforms, top=200)
        fly = emerging_terms(frame, _at(end + dt.timedelta(days=1), 0), min_authors=MIN_AUTHORS, top=200)
        assert not fly.empty
        pd.testing.assert_frame_equal(stored[COLUMNS], fly[COLUMNS], check_dtype=False)
        assert stored.attrs == fly.attrs  # the window and the baseline, stated


def test_the_fold_rule_holds_per_platform_and_no_bigram_bridges_hashtags(trend_db):
    rebuild_trends(trend_db)
    on_x = stored_emerging(trend_db, LAST, ("x",), top=200)
    assert "gleamotron" not in set(on_x["term"])  # same accounts as #gleamotron on x: folded
    assert "gleamotron" in on_x.set_index("term").loc["#gleamotron", "folded"]
    both = stored_emerging(trend_db, LAST, ("x", "mastodon"), top=200)
    assert "gleamotron" in set(both["term"])  # on mastodon other accounts use the word
    terms = set(stored_emerging(trend_db, LAST, top=500)["term"])
    assert {"#healthpolicy", "big week"} <= terms
    assert not {"policy rsna", "health policy", "ahead healthpolicy"} & terms
    with trend_db.engine.connect() as conn:
        stored_terms = set(conn.execute(select(TrendTerm.term)).scalars())
    assert "policy rsna" not in stored_terms and {"week ahead", "#rsna2026"} <= stored_terms
    assert not {"smithsonian", "deletedword", "patient details"} & stored_terms  # held and deleted posts


def test_stored_topics_are_the_topic_model_of_each_week(trend_db):
    rebuild_trends(trend_db)
    week = LAST - dt.timedelta(days=LAST.weekday() + 14)
    p = Post.__table__.c
    q = (select(p.id, func.coalesce(p.title + "\n" + p.text, p.text, p.title)).where(
        public_where(PostFilters(start=_at(week, 0), end=_at(week + dt.timedelta(days=7), 0)), p))
        .order_by(p.created_at, p.id))
    with trend_db.engine.connect() as conn:
        posts = pd.DataFrame(conn.execute(q).all(), columns=["id", "text"])
        rows = conn.execute(select(TrendTopic.label, TrendTopic.terms, TrendTopic.posts, TrendTopic.examples)
                            .where(TrendTopic.week == week, TrendTopic.platform == "").order_by(TrendTopic.topic)).all()
    model = TopicDiscovery(n_topics=8, random_state=0)
    weights = model.fit_transform(list(posts["text"]))
    assert [r.label for r in rows] == model.labels_ and [r.terms for r in rows] == model.top_terms_
    assert sum(r.posts for r in rows) == len(posts) == int((weights.max(axis=1) > 1e-6).sum())
    assert [r.examples for r in rows] == [[int(posts["id"][i]) for i in ex] for ex in model.examples_]
    shown = stored_topics(trend_db, week, week + dt.timedelta(days=6))
    assert set(shown["topic"]) <= set(model.labels_) and shown["posts"].sum() <= len(posts)
    assert all(ex for ex in shown["examples"]) and shown["weeks"].eq(1).all()
    assert week_topics(posts.head(MIN_AUTHORS)) == []  # too few posts: no topics


def test_the_analysis_job_fills_the_trends_and_refreshes_changed_days(trend_db):
    analyze(trend_db, batch_size=500)
    with trend_db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(TrendStaleDay)).scalar_one() == 0
        days = set(conn.execute(select(TrendTerm.day).distinct()).scalars())
        weeks = conn.execute(select(func.count(TrendTopic.week.distinct()))).scalar_one()
    assert LAST in {d if isinstance(d, dt.date) else dt.date.fromisoformat(d) for d in days} and weeks >= 6
    before = stored_emerging(trend_db, LAST, top=200)
    assert "zebrafishography" not in set(before["term"])
    new = [PostRecord("bluesky", f"z{i}", "zebrafishography protocols", _at(LAST), author_external_id=f"z{i}")
           for i in range(4)]
    with trend_db.engine.begin() as conn:
        upsert_posts(conn, new)
        mark_days(conn, {LAST})  # what a collection batch does
    analyze(trend_db, batch_size=500)
    after = stored_emerging(trend_db, LAST, top=200)
    assert after.set_index("term").loc["zebrafishography", "authors"] == 4
    assert "zebrafishography" not in set(stored_emerging(trend_db, LAST, ("x",), top=200)["term"])
    # a post held later leaves the stored counts at the next refresh
    with trend_db.engine.begin() as conn:
        ids = conn.execute(select(Post.id).where(Post.external_id.in_(["z0", "z1"]))).scalars().all()
        conn.execute(update(Annotation).where(Annotation.post_id.in_(ids)).values(flags=["privacy_risk"]))
        mark_days(conn, {LAST})
    refresh_stale_trends(trend_db)
    assert "zebrafishography" not in set(stored_emerging(trend_db, LAST, top=200)["term"])  # 2 accounts left
