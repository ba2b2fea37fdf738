"""The rollup readers give the numbers the read layer gives on `posts` (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pandas as pd
import pytest
from sqlalchemy import func, select

from radpulse.analysis.store import analyze
from radpulse.db.models import Annotation, Author, Mention, Post, Source
from radpulse.db.queries import PostFilters, public_where
from radpulse.db.queries.filters import public_select
from radpulse.db.queries.metrics import author_key, engagement
from radpulse.db.queries.people import top_accounts
from radpulse.db.queries.rollups import (
    accounts_by,
    articles,
    hashtags,
    totals,
    volume_by,
)
from radpulse.demo import build_demo

END = dt.date(2026, 11, 27)
UTC = dt.timezone.utc
WINDOW = dict(start=dt.datetime(2026, 9, 1, tzinfo=UTC), end=dt.datetime(2026, 11, 15, tzinfo=UTC))


@pytest.fixture
def demo_db(db):  # type: ignore[no-untyped-def]
    build_demo(db, posts=1500, end=END)
    analyze(db, batch_size=500)
    return db


def truth(db, f: PostFilters) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Posts, accounts and engagement of the public posts `f` selects, straight from `posts`."""
    with db.engine.connect() as conn:
        posts, eng = conn.execute(public_select(f, func.count(), func.coalesce(func.sum(engagement(Post.__table__.c)), 0))).one()
        accounts = conn.execute(select(func.count(author_key(Post).distinct())).where(public_where(f))).scalar_one()
    return {"posts": posts, "engagement": eng, "accounts": accounts}


def public_frame(db, f: PostFilters = PostFilters()) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        rows = conn.execute(select(Post.id, Post.platform, Post.author_external_id, Post.created_at, Post.hashtags,
                                   engagement(Post).label("engagement")).where(public_where(f))).all()
    frame = pd.DataFrame(rows, columns=["id", "platform", "author", "created_at", "hashtags", "engagement"])
    frame["day"] = frame.created_at.map(lambda t: t.astimezone(UTC).date())
    return frame


def test_totals_equal_the_read_layer_for_every_facet(demo_db):
    db = demo_db
    with db.engine.connect() as conn:
        source = conn.execute(select(Source.name).order_by(Source.name)).scalars().first()
        theme = conn.execute(select(Annotation.themes).where(func.coalesce(Annotation.subspecialty, "") != "")).scalars().first()[0]
        kind = conn.execute(select(Author.author_type).where(Author.author_type.is_not(None))).scalars().first()
    cases = [
        PostFilters(), PostFilters(**WINDOW), PostFilters(platforms=("x", "reddit"), **WINDOW),
        PostFilters(sources=(source,)), PostFilters(themes=(theme,), **WINDOW), PostFilters(subspecialties=("neuro", "chest")),
        PostFilters(sentiments=("negative",)), PostFilters(languages=("en",)), PostFilters(author_types=(kind,)),
        PostFilters(platforms=("bluesky",), subspecialties=("neuro",), sentiments=("positive", "neutral"), **WINDOW),
    ]
    for f in cases:
        got = totals(db, f)
        assert {k: got[k] for k in ("posts", "engagement", "accounts")} == truth(db, f), f
    assert totals(db)["posts"] > 1000  # the demo is there: the comparison is not between zeros


def test_volume_and_accounts_by_period_and_dimension(demo_db):
    db = demo_db
    f = PostFilters(**WINDOW)
    frame = public_frame(db, f)
    frame["week"] = frame.day.map(lambda d: d - dt.timedelta(days=d.weekday()))
    weekly = volume_by(db, f, period="week", dims=("platform",))
    want = frame.groupby(["week", "platform"]).agg(posts=("id", "size"), engagement=("engagement", "sum")).reset_index()
    assert sorted(zip(weekly.period, weekly.platform, weekly.posts, weekly.engagement)) == \
        sorted(zip(want.week, want.platform, want.posts, want.engagement))
    frame["month"] = frame.day.map(lambda d: d.replace(day=1))
    monthly = accounts_by(db, f, period="month")
    known = frame.dropna(subset=["author"])
    want = known.assign(key=known.platform + ":" + known.author).groupby("month").key.nunique()
    assert dict(zip(monthly.period, monthly.accounts)) == want.to_dict()
    # by theme: a post counts once per theme it carries, and each theme's count is the read layer's
    by_theme = volume_by(db, f, dims=("theme",)).groupby("theme").posts.sum()
    for theme, posts in by_theme.items():
        if theme:
            assert posts == truth(db, PostFilters(themes=(theme,), **WINDOW))["posts"]
    assert by_theme.sum() >= len(frame)


def test_by_month_whole_months_come_from_the_monthly_slices_and_equal_the_days(demo_db, monkeypatch):
    """A window holding whole months reads them from `rollup_slice_monthly` and its partial first
    and last months from the daily slices: the same frames as reading every day, for each cut,
    with facets, and for window totals; a window within one month reads days only."""
    from radpulse.db.queries import rollups as reader

    db = demo_db
    months_read: list = []
    real = reader._slice_rows
    monkeypatch.setattr(reader, "_slice_rows", lambda *a, **k: (r := real(*a, **k)) is not None and months_read.append(1) or r)
    windows = [PostFilters(start=dt.datetime(2026, 3, 17, tzinfo=UTC), end=dt.datetime(2026, 9, 9, 12, tzinfo=UTC)),
               PostFilters(start=dt.datetime(2026, 1, 1, tzinfo=UTC), end=dt.datetime(2026, 11, 1, tzinfo=UTC),
                           platforms=("x", "bluesky")),
               PostFilters(start=dt.datetime(2025, 12, 20, tzinfo=UTC), end=dt.datetime(2026, 11, 28, tzinfo=UTC),
                           sentiments=("negative", "neutral"), subspecialties=("neuro", "chest"))]
    cases = [((), w) for w in windows] + [(dims, windows[0]) for dims in
                                            [("platform",), ("sentiment",), ("subspecialty", "sentiment"), ("theme",),
                                             ("source", "platform"), ("language",), ("author_type", "sentiment")]]
    for dims, f in cases:
        got_volume, got_totals = volume_by(db, f, period="month", dims=dims), totals(db, f)
        with monkeypatch.context() as m:
            m.setattr(reader, "_month_split", lambda filters: None)
            days_volume, days_totals = volume_by(db, f, period="month", dims=dims), totals(db, f)
        pd.testing.assert_frame_equal(got_volume, days_volume)
        assert got_totals == days_totals
        assert len(got_volume) >= 6 and got_volume["posts"].sum() > 100
    assert len(months_read) == 2 * len(cases)  # volume and totals: each from the monthly slices
    months_read.clear()
    volume_by(db, PostFilters(start=dt.datetime(2026, 5, 3, tzinfo=UTC), end=dt.datetime(2026, 5, 29, tzinfo=UTC)),
              period="month", dims=("sentiment",))
    assert months_read == []


def test_top_accounts_hashtags_and_articles(demo_db):
    db = demo_db
    frame = public_frame(db)
    top = top_accounts(db, limit=5)
    per_author = frame.dropna(subset=["author"]).groupby(["platform", "author"]).engagement.sum()
    assert list(top.engagement) == sorted(per_author, reverse=True)[:5]
    assert per_author[(top.platform[0], top.author_id[0])] == top.engagement[0]

    tags = hashtags(db, limit=3)
    counts = Counter(t for ts in frame.hashtags for t in {x.lower() for x in ts})
    assert dict(zip(tags.hashtag, tags.posts)) == dict(counts.most_common(3))
    one = hashtags(db, tags=["#" + tags.hashtag[0].upper()], period="month")
    assert one.posts.sum() == counts[tags.hashtag[0]] and set(one.hashtag) == {tags.hashtag[0]}

    with db.engine.connect() as conn:
        cited = Counter(conn.execute(select(Mention.article_id).where(Mention.post_id.in_(frame.id.tolist()))).scalars())
    arts = articles(db, limit=4)
    assert list(arts.mentions) == [n for _, n in cited.most_common(4)]
    assert (arts[[c for c in arts.columns if c in ("x", "reddit", "mastodon", "bluesky")]].sum(axis=1) == arts.mentions).all()


def test_readers_refuse_what_rollups_do_not_hold(db):
    with pytest.raises(ValueError, match="public posts only"):
        totals(db, PostFilters(include_held=True))
    with pytest.raises(ValueError, match="period"):
        volume_by(db, period="hour")
    with pytest.raises(ValueError, match="dimension"):
        volume_by(db, dims=("handle",))
    assert totals(db)["posts"] == 0 and volume_by(db).empty
