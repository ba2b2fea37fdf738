"""Subscribers and digests may choose themes (e.g. `ai`) as well as subspecialties (issue 10.5)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from radpulse.analysis.pipeline import ANNOTATOR_NAME
from radpulse.analysis.store import analyze
from radpulse.db.models import Annotation, Post
from radpulse.demo import build_demo
from radpulse.digest import add_subscriber, build_digest, week_of


def test_a_theme_filters_the_digest_like_a_subspecialty(db, settings):
    build_demo(db, posts=1500, seed=5, end=dt.date(2026, 6, 30))
    analyze(db)
    start, end = week_of(dt.date(2026, 6, 17))
    since, until = (dt.datetime.combine(d, dt.time(), tzinfo=dt.UTC) for d in (start, end))
    with db.session() as s:
        rows = s.execute(select(Annotation.subspecialty, Annotation.themes).join(Post, Post.id == Annotation.post_id)
                         .where(Annotation.model_name == ANNOTATOR_NAME, Post.created_at >= since,
                                Post.created_at < until, Post.is_deleted.is_(False))).all()
    with_ai = sum(1 for _, themes in rows if "ai" in (themes or []))
    with_ai_or_neuro = sum(1 for sub, themes in rows if "ai" in (themes or []) or sub == "neuro")
    assert 0 < with_ai < len(rows)
    assert build_digest(db, settings, start, end, topics=["ai"]).posts == with_ai
    assert build_digest(db, settings, start, end, topics=["ai", "neuro"]).posts == with_ai_or_neuro
    assert build_digest(db, settings, start, end).posts == len(rows)
    row, created = add_subscriber(db, "ada@example.org", topics=["ai", "neuro"])
    assert created and row.topics == ["ai", "neuro"]
