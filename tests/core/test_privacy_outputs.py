"""Every public output applies the one held rule and de-identified exports identify nobody."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from sqlalchemy import insert

from radpulse.analysis.discovery import discovery_frame
from radpulse.analysis.pipeline import ANNOTATOR_NAME
from radpulse.api import iter_posts, posts_frame, public_posts
from radpulse.dashboards import data
from radpulse.db.models import Annotation, Mention, ReviewDecision
from radpulse.db.queries import PostFilters, held_post_ids
from radpulse.db.queries.privacy import ANNOTATOR_NAME as READ_LAYER_ANNOTATOR
from radpulse.db.rollups import rebuild_rollups
from radpulse.db.store import upsert_articles, upsert_authors, upsert_posts
from radpulse.digest import build_digest
from radpulse.exports.deidentify import is_platform_link, scrub_text
from radpulse.literature.attention import article_attention, mention_frame
from radpulse.records import ArticleRecord, AuthorRecord, PostRecord
from tests.conftest import make_settings

T = dt.datetime(2026, 11, 17, 12, tzinfo=dt.UTC)
MONDAY = dt.date(2026, 11, 16)
DOI = "10.1148/radiol.2025001"


def _seed(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Four posts citing one paper: flag dismissed then confirmed, pending, dismissed, unflagged."""
    names = ["reconfirmed", "pending", "dismissed", "clean"]
    posts = [PostRecord("x", str(100 + i), f"{n} case #radiology #ctscan doi:{DOI}", T + dt.timedelta(minutes=i),
                        author_external_id=f"u{i}", like_count=10 * (i + 1), hashtags=["radiology", "ctscan"],
                        url=f"https://x.com/acct{i}/status/{100 + i}")
             for i, n in enumerate(names)]
    with db.engine.begin() as conn:
        ids = upsert_posts(conn, posts).ids
        art = upsert_articles(conn, [ArticleRecord(doi=DOI, title="A CT paper")]).ids[f"doi:{DOI}"]
        by_name = {n: ids[("x", str(100 + i))] for i, n in enumerate(names)}
        conn.execute(insert(Mention), [{"post_id": pid, "article_id": art, "kind": "doi", "matched": DOI,
                                        "created_at": T} for pid in by_name.values()])
        conn.execute(insert(Annotation), [
            {"post_id": pid, "model_name": ANNOTATOR_NAME, "model_version": "1", "annotated_at": T,
             "flags": [] if n == "clean" else ["privacy_risk"], "subspecialty": "chest", "subspecialties": ["chest"],
             "themes": ["ai"], "sentiment": "neutral"}
            for n, pid in by_name.items()])
        earlier, later = T, T + dt.timedelta(hours=1)
        conn.execute(insert(ReviewDecision), [
            {"post_id": by_name["reconfirmed"], "flag": "privacy_risk", "decision": "dismissed", "reason": "ok",
             "decided_at": earlier},
            {"post_id": by_name["reconfirmed"], "flag": "privacy_risk", "decision": "confirmed", "reason": "MRN",
             "decided_at": later},
            {"post_id": by_name["dismissed"], "flag": "privacy_risk", "decision": "dismissed", "reason": "no data",
             "decided_at": earlier},
        ])
    rebuild_rollups(db)  # the decisions were written behind `decide`'s back: the dashboard reads rollups
    return by_name


def test_the_read_layer_names_the_pipelines_annotator():
    assert READ_LAYER_ANNOTATOR == ANNOTATOR_NAME


def test_every_public_output_agrees_on_held_posts(db):
    ids = _seed(db)
    public = {ids["dismissed"], ids["clean"]}
    assert held_post_ids(db, ids.values()) == {ids["reconfirmed"], ids["pending"]}

    f = PostFilters(start=T - dt.timedelta(days=1), end=T + dt.timedelta(days=1))
    assert data.totals(db, f)["posts"] == 2
    assert int(data.volume_by(db, f, period="day", dims=("platform",))["posts"].sum()) == 2
    assert int(data.accounts_by(db, f, period="day")["accounts"].sum()) == data.totals(db, f)["accounts"]
    assert set(data.hashtags(db, f)["posts"]) == {2}
    assert int(data.volume_by(db, f, period="day", dims=("subspecialty",))["posts"].sum()) == 2
    assert int(data.volume_by(db, f, period="day", dims=("author_type",))["posts"].sum()) == 2
    assert int(data.top_accounts(db, f)["posts"].sum()) == 2
    assert data.article_attention(db, f)["mentions"].tolist() == [2]

    with db.engine.connect() as conn:
        assert set(mention_frame(conn)["post_id"]) == public
        assert len(discovery_frame(conn, T - dt.timedelta(days=1), T + dt.timedelta(days=1))) == 2
    assert article_attention(db)["mentions"].tolist() == [2]

    digest = build_digest(db, make_settings(), MONDAY, MONDAY + dt.timedelta(days=7))
    assert digest.posts == 2 and len(digest.top_posts) == 2
    assert all("reconfirmed" not in p["text"] and "pending" not in p["text"] for p in digest.top_posts)
    assert [a["mentions"] for a in digest.articles] == [2]

    assert len(posts_frame(db)) == 2                                   # de-identified export
    assert len(public_posts(db)) == 2                                  # the API
    assert len(posts_frame(db, deidentify=False)) == 2                 # identified: still public only
    assert len(posts_frame(db, deidentify=False, include_held=True)) == 4  # reviewers, identified only
    with pytest.raises(Exception, match="identified"):
        next(iter_posts(db, include_held=True))


KNOWN = {
    "handles": ["dr_rad_jane", "neuro.bsky.social", "RadResBob"],
    "ids": ["1790000000000000001", "did:plc:abcdefghijk", "t2_99zzyy"],
    "profile_urls": ["https://x.com/dr_rad_jane", "https://bsky.app/profile/neuro.bsky.social",
                     "https://www.reddit.com/user/RadResBob", "https://med-mastodon.com/@someone/11223344"],
}


def _seed_identifiable(db) -> None:  # type: ignore[no-untyped-def]
    authors = [AuthorRecord("x", KNOWN["ids"][0], handle="dr_rad_jane", bio="Radiologist at General, Boston"),
               AuthorRecord("bluesky", KNOWN["ids"][1], handle="neuro.bsky.social"),
               AuthorRecord("reddit", KNOWN["ids"][2], handle="RadResBob")]
    posts = [
        PostRecord("x", "1790000000000000999", "Thanks @dr_rad_jane and @RadResBob! see https://x.com/dr_rad_jane "
                   "and https://doi.org/10.1148/radiol.1", T, author_external_id=KNOWN["ids"][0],
                   url="https://x.com/dr_rad_jane/status/1790000000000000999", mentions=["RadResBob"],
                   links=["https://x.com/dr_rad_jane/status/1", "https://doi.org/10.1148/radiol.1"],
                   in_reply_to_id="1790000000000000001"),
        PostRecord("bluesky", "at://did:plc:abcdefghijk/app.bsky.feed.post/3k", "neuro.bsky.social here: "
                   "@neuro.bsky.social posted https://bsky.app/profile/neuro.bsky.social", T,
                   author_external_id=KNOWN["ids"][1], url="https://bsky.app/profile/neuro.bsky.social/post/3k",
                   links=["https://bsky.app/profile/neuro.bsky.social"]),
        PostRecord("reddit", "t3_abc123", "Asked /u/RadResBob and u/RadResBob; also https://www.reddit.com/user/RadResBob",
                   T, author_external_id=KNOWN["ids"][2], title="Question for u/RadResBob @dr_rad_jane",
                   url="https://www.reddit.com/r/Radiology/comments/abc123/", community="u_RadResBob"),
        PostRecord("mastodon", "https://med-mastodon.com/users/someone/statuses/11223344",
                   "via @someone@med-mastodon.com https://med-mastodon.com/@someone/11223344", T,
                   author_external_id="https://med-mastodon.com/@someone",
                   url="https://med-mastodon.com/@someone/11223344"),
    ]
    with db.engine.begin() as conn:
        upsert_authors(conn, authors)
        upsert_posts(conn, posts)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_a_deidentified_export_contains_no_known_handle_id_or_profile_url(db, tmp_path, fmt):
    from radpulse.db.queries import PostFilters
    from radpulse.exports.posts import iter_post_frames
    from radpulse.exports.writers import write_frames

    _seed_identifiable(db)
    out = tmp_path / f"posts.{fmt}"
    assert write_frames(iter_post_frames(db, PostFilters(), chunksize=2), fmt, out) == 4
    if fmt == "parquet":  # every cell as text, lists included, in one searchable string
        text = json.dumps(pd.read_parquet(out).astype(str).to_dict("records"), ensure_ascii=False)
    else:
        text = out.read_text(encoding="utf-8")
    lowered = text.lower()
    for value in [*KNOWN["handles"], *KNOWN["ids"], "1790000000000000999", "t3_abc123", "someone",
                  "11223344", "boston", "med-mastodon.com/@", "x.com/", "bsky.app/profile"]:
        assert value.lower() not in lowered, value
    assert "doi.org/10.1148/radiol.1" in text  # other links are kept


def test_scrubbing_rules_on_their_own():
    assert scrub_text("hi @a_b and @c@d.social, /u/xyz u/Name", ["Handle1"]) == "hi @user and @user, u/user u/user"
    assert scrub_text("Handle1 says", ["Handle1"]) == "@user says"
    assert scrub_text("email me: rad@example.org") == "email me: rad@example.org"  # not a mention
    assert is_platform_link("https://x.com/a/status/1") and is_platform_link("https://fosstodon.org/@a/1")
    assert not is_platform_link("https://pubs.rsna.org/doi/10.1148/radiol.1")


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_a_chunked_export_writes_every_public_row_once(db, tmp_path, fmt):
    """Keyset pages on SQLite and a server-side cursor on PostgreSQL: ties on created_at across page
    boundaries, deleted and held posts, and pages far smaller than the data."""
    from radpulse.db.queries import PostFilters
    from radpulse.exports.posts import iter_post_frames
    from radpulse.exports.writers import write_frames

    times = [T + dt.timedelta(seconds=i // 7) for i in range(1_000)]  # 7 posts share each second
    posts = [PostRecord("x", str(5_000 + i), f"post {i}", t, author_external_id=f"u{i % 50}",
                        is_deleted=(i % 97 == 0)) for i, t in enumerate(times)]
    with db.engine.begin() as conn:
        ids = upsert_posts(conn, posts).ids
        held = [ids[("x", str(5_000 + i))] for i in range(0, 1_000, 101)]
        conn.execute(insert(Annotation), [{"post_id": pid, "model_name": ANNOTATOR_NAME, "model_version": "1",
                                           "annotated_at": T, "flags": ["privacy_risk"], "subspecialties": [],
                                           "themes": []} for pid in held])
    deleted = {i for i in range(1_000) if i % 97 == 0}
    held_i = set(range(0, 1_000, 101))
    expected = {f"post {i}" for i in range(1_000)} - {f"post {i}" for i in deleted | held_i}
    out = tmp_path / f"all.{fmt}"
    assert write_frames(iter_post_frames(db, PostFilters(), chunksize=64), fmt, out) == len(expected)
    if fmt == "parquet":
        texts = pd.read_parquet(out)["text"].tolist()
    elif fmt == "csv":
        texts = pd.read_csv(out)["text"].tolist()
    else:
        texts = [json.loads(line)["text"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(texts) == len(set(texts)) and set(texts) == expected
    assert oct(out.stat().st_mode & 0o777) != oct(0o600)  # an ordinary file, not mkstemp's private mode
