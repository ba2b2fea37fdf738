"""The dashboard's read of the window's mentions (from the mention rollup for whole days, else
from the posts; in Arrow through the helper process on SQLite) gives the same attention table as
the row-by-row read of the posts that the CLI and the digest use."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select, update

from radpulse.dashboards import data
from radpulse.db.models import Annotation, Mention
from radpulse.db.queries.filters import PostFilters
from radpulse.db.queries.privacy import ANNOTATOR_NAME
from radpulse.db.rollups import mark_post_days, refresh_stale_rollups
from radpulse.literature.attention import article_attention, mention_frame, mention_frame_of


def test_mentions_read_in_the_helper_score_as_the_row_read(db, helper_reads):
    from radpulse.demo import build_demo

    build_demo(db, posts=900, end=dt.date(2026, 11, 27))
    with db.engine.begin() as conn:  # a held post that cites a paper: out of both reads
        held = conn.execute(select(Mention.post_id).limit(1)).scalar_one()
        conn.execute(update(Annotation).where(Annotation.post_id == held, Annotation.model_name == ANNOTATOR_NAME)
                     .values(flags=["patient_info"]))
        mark_post_days(conn, [held])  # as the analysis and the review do
    refresh_stale_rollups(db)
    windows = [PostFilters(start=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), end=dt.datetime(2026, 11, 28, tzinfo=dt.UTC)),
               PostFilters(start=dt.datetime(2026, 6, 1, tzinfo=dt.UTC), end=dt.datetime(2026, 11, 28, tzinfo=dt.UTC),
                           platforms=("x", "bluesky")),
               # not whole days: read from the posts, not from the mention rollup
               PostFilters(start=dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), end=dt.datetime(2026, 11, 27, 18, tzinfo=dt.UTC))]
    for f in windows:
        arrow = mention_frame_of(db, since=f.start, until=f.end, platforms=f.platforms)
        with db.engine.connect() as conn:
            rows = mention_frame(conn, since=f.start, until=f.end, platforms=f.platforms)
        assert len(arrow) == len(rows) > 20 and held not in set(arrow["post_id"])
        keys = ["article_id", "post_id", "platform", "author", "created_at", "kind"]
        pd.testing.assert_frame_equal(arrow[keys], rows[keys], check_dtype=False)
        shown = data.article_attention(db, f, limit=50)
        expected = article_attention(db, since=f.start, until=f.end, platforms=f.platforms, limit=50)
        pd.testing.assert_frame_equal(shown, expected, check_dtype=False)
        assert len(shown) > 5 and shown["score"].is_monotonic_decreasing
    assert len(helper_reads) == (2 * len(windows) if db.dialect == "sqlite" else 0)  # each window: ours and the page's
