"""`radpulse trends emerging|topics` on a stored database (held posts left out)."""

from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner
from sqlalchemy import insert

from radpulse.analysis.pipeline import ANNOTATOR_NAME
from radpulse.cli.main import cli
from radpulse.db.engine import open_database
from radpulse.db.models import Annotation
from radpulse.db.store import upsert_posts
from radpulse.records import PostRecord

END = dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc)


def seeded(tmp_path) -> list[str]:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'r.db'}"
    db = open_database(url)
    posts = [PostRecord("x", f"z{i}", f"Trying zebrafishography protocols #NewTech case {i}", END - dt.timedelta(days=2),
                        author_external_id=f"z{i}") for i in range(3)]
    posts += [PostRecord("mastodon", f"h{i}", f"Smithsonian patient details {i}", END - dt.timedelta(days=1),
                         author_external_id=f"h{i}") for i in range(3)]
    posts += [PostRecord("bluesky", f"c{i}", f"lung cancer screening ldct nodules chest {i}", END - dt.timedelta(days=5 + i % 10),
                         author_external_id=f"c{i}") for i in range(12)]
    posts += [PostRecord("reddit", f"n{i}", f"stroke thrombectomy perfusion brain neuro {i}", END - dt.timedelta(days=5 + i % 10),
                         author_external_id=f"n{i}") for i in range(12)]
    with db.engine.begin() as conn:
        ids = upsert_posts(conn, posts).ids
        conn.execute(insert(Annotation), [
            {"post_id": ids[("mastodon", f"h{i}")], "model_name": ANNOTATOR_NAME, "model_version": "1",
             "flags": ["privacy_risk"], "subspecialties": [], "themes": [], "annotated_at": END} for i in range(3)])
    db.dispose()
    return ["--database-url", url]


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_emerging_terms_are_counted_by_accounts_and_leave_held_posts_out(tmp_path):
    base = seeded(tmp_path)
    out = json.loads(run(*base, "trends", "emerging", "--until", "2026-11-23", "--json").output)
    terms = {t["term"]: t for t in out["terms"]}
    assert (terms["zebrafishography"]["authors"], terms["zebrafishography"]["new"]) == (3, True)
    assert terms["#newtech"]["kind"] == "hashtag"
    assert not any("smithsonian" in t for t in terms) and out["posts"] == 27  # 30 stored, 3 held
    only_reddit = json.loads(run(*base, "trends", "emerging", "--until", "2026-11-23", "--platform", "reddit", "--json").output)
    assert "zebrafishography" not in {t["term"] for t in only_reddit["terms"]}
    table = run(*base, "trends", "emerging", "--until", "2026-11-23")
    assert table.exit_code == 0 and "zebrafishography" in table.output


def test_topics_are_discovered_with_their_terms_and_shares(tmp_path):
    base = seeded(tmp_path)
    out = json.loads(run(*base, "trends", "topics", "--until", "2026-11-23", "--days", "30", "-k", "2", "--json").output)
    assert out["posts"] == 27 and len(out["topics"]) == 2
    assert sum(t["posts"] for t in out["topics"]) == 27
    joined = [" ".join(t["terms"]) for t in out["topics"]]
    assert any("lung" in j or "screening" in j for j in joined) and any("stroke" in j or "thrombectomy" in j for j in joined)
    few = run(*base, "trends", "topics", "--until", "2026-11-23", "--days", "1", "-k", "5")
    assert few.exit_code == 2 and "too few for 5 topics" in few.output
    assert run(*base, "trends", "emerging", "--until", "next week").exit_code == 2
