"""Flagged posts stay out of public top lists until a reviewer dismisses every flag."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert

from radpulse.analysis.pipeline import ANNOTATOR_NAME
from radpulse.analysis.review import held_post_ids
from radpulse.dashboards import data
from radpulse.db.models import Annotation, Mention, ReviewDecision
from radpulse.db.queries import PostFilters
from radpulse.db.rollups import refresh_rollups
from radpulse.db.store import upsert_articles, upsert_posts
from radpulse.literature.attention import mention_frame
from radpulse.records import ArticleRecord, PostRecord

T = dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc)


def test_flagged_citing_post_is_held_until_all_its_flags_are_dismissed(db):
    with db.engine.begin() as conn:
        posts = upsert_posts(conn, [PostRecord("x", str(i), f"paper doi:10.1148/radiol.1 #{i}", T, author_external_id=str(i))
                                    for i in range(3)])
        art = upsert_articles(conn, [ArticleRecord(doi="10.1148/radiol.1", title="A paper")]).ids["doi:10.1148/radiol.1"]
        ids = [posts.ids[("x", str(i))] for i in range(3)]
        conn.execute(insert(Mention), [{"post_id": pid, "article_id": art, "kind": "doi", "matched": "doi", "created_at": T}
                                       for pid in ids])
        conn.execute(insert(Annotation), [
            {"post_id": pid, "model_name": ANNOTATOR_NAME, "model_version": "1", "flags": flags, "annotated_at": T,
             "subspecialties": [], "themes": []}
            for pid, flags in zip(ids, [["privacy_risk", "spam"], [], ["medical_advice_request"]])
        ])
    f = PostFilters(start=T - dt.timedelta(days=1), end=T + dt.timedelta(days=1))

    def public_mentions() -> tuple[int, set[int]]:
        # the rows above are written directly, not by the writers that mark their days: refresh
        # the day as the scheduler does after them (the dashboard reads the mention rollup)
        refresh_rollups(db, [T.astimezone(dt.timezone.utc).date()])
        top = data.article_attention(db, f)
        with db.engine.connect() as conn:
            frame = mention_frame(conn)
        return int(top["mentions"].iloc[0]), set(frame["post_id"])

    assert public_mentions() == (1, {ids[1]})
    assert held_post_ids(db, ids) == {ids[0], ids[2]}
    with db.engine.begin() as conn:
        conn.execute(insert(ReviewDecision), [
            {"post_id": ids[0], "flag": "privacy_risk", "decision": "dismissed", "reason": "no patient data", "decided_at": T},
            {"post_id": ids[2], "flag": "medical_advice_request", "decision": "dismissed", "reason": "rhetorical", "decided_at": T},
        ])
    assert public_mentions() == (2, {ids[1], ids[2]})  # ids[0] still has an undismissed flag
    assert held_post_ids(db, ids) == {ids[0]}
