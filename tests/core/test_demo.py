"""The offline demo dataset: deterministic, synthetic, realistic in shape."""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
from sqlalchemy import func, select

from radpulse.db.engine import open_database
from radpulse.db.models import Article, Author, Mention, Meta, Post, Source
from radpulse.demo import build_demo, conference_weight

END = dt.date(2026, 11, 27)


def fingerprint(db) -> str:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        rows = conn.execute(select(Post.external_id, Post.platform, Post.text, Post.created_at, Post.like_count)
                            .order_by(Post.external_id)).all()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_same_seed_same_data_and_rerun_is_idempotent(tmp_path):
    a = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    b = open_database(f"sqlite:///{tmp_path / 'b.db'}")
    c = open_database(f"sqlite:///{tmp_path / 'c.db'}")
    build_demo(a, posts=3000, seed=7, end=END)
    build_demo(b, posts=3000, seed=7, end=END)
    build_demo(c, posts=3000, seed=8, end=END)
    assert fingerprint(a) == fingerprint(b) != fingerprint(c)
    build_demo(a, posts=3000, seed=7, end=END)
    with a.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Post)).scalar() == 3000
    assert fingerprint(a) == fingerprint(b)


def test_demo_data_is_marked_synthetic_and_realistic(db):
    summary = build_demo(db, posts=6000, seed=11, end=END)
    with db.engine.connect() as conn:
        posts = pd.DataFrame(conn.execute(select(Post.platform, Post.created_at, Post.like_count, Post.text,
                                                 Post.synthetic, Post.hashtags, Post.language)).all())
        meta = conn.execute(select(Meta.value).where(Meta.key == "demo")).scalar()
        kinds = dict(conn.execute(select(Author.author_type, func.count()).group_by(Author.author_type)).all())
        n_mentions = conn.execute(select(func.count()).select_from(Mention)).scalar()
        n_articles = conn.execute(select(func.count()).select_from(Article).where(Article.synthetic.is_(True))).scalar()
        demo_sources = conn.execute(select(func.count()).select_from(Source).where(Source.synthetic.is_(True))).scalar()
    assert meta["synthetic"] is True and meta["seed"] == 11 and len(posts) == 6000 and posts["synthetic"].all()
    assert set(posts["platform"]) == {"x", "reddit", "mastodon", "bluesky"}
    created = pd.to_datetime(posts["created_at"], utc=True)
    assert created.min().date() >= summary.start and created.max().date() <= END
    # heavy-tailed engagement
    likes = posts["like_count"]
    assert likes.max() > 20 * likes.median()
    # conference spikes: RSNA week and ECR week busier than an ordinary week
    daily = created.dt.date.value_counts()
    spike = [d for d in daily.index if conference_weight(d) >= 3]
    calm = [d for d in daily.index if conference_weight(d) == 1]
    assert daily[spike].mean() > 2 * daily[calm].mean()
    assert any("RSNA" in t for tags in posts["hashtags"] for t in tags)
    # authors of several kinds, citations, other languages
    assert {"radiologist", "trainee", "organisation", "patient_public", "industry"} <= set(kinds)
    assert n_articles == summary.articles and 0.05 * 6000 < n_mentions < 0.11 * 6000
    assert posts["text"].str.contains(r"doi\.org/10\.|doi:10\.|pubmed\.ncbi\.nlm\.nih\.gov/\d+").any()
    assert (posts["language"] != "en").sum() > 50
    assert demo_sources == 4


def test_posts_are_stored_in_the_order_a_scheduled_collection_stores_them(db):
    """Hour after hour (each hourly run's posts newest first, as pages come): ids follow time as in
    a collected database, so reads by time touch the pages of their hours, as they would there."""
    build_demo(db, posts=4000, seed=3, end=END)
    with db.engine.connect() as conn:
        created = pd.to_datetime(pd.Series(conn.execute(select(Post.created_at).order_by(Post.id)).scalars().all()),
                                 utc=True)
    hours = created.dt.floor("h")
    assert hours.is_monotonic_increasing and hours.nunique() > 1000
    within = created.groupby(hours).apply(lambda c: c.is_monotonic_decreasing)
    assert within.all()
    assert not created.is_monotonic_increasing  # newest first inside a run, not sorted overall
