"""Bulk upserts: idempotent, newest metrics win, deletions stick, batches are atomic (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from radpulse.collectors.mastodon import MastodonCollector
from radpulse.db.models import Article, Author, Post
from radpulse.db.store import upsert_articles, upsert_authors, upsert_posts
from radpulse.records import ArticleRecord, AuthorRecord, MergeRule, PostRecord

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


def post(i: int, likes: int, read_hours: int, **kw) -> PostRecord:
    return PostRecord(
        platform=kw.pop("platform", "x"), external_id=str(i), text=kw.pop("text", f"post {i} #Radiology"),
        created_at=T0, author_external_id=f"u{i % 3}", like_count=likes, repost_count=likes // 2,
        metrics_read_at=T0 + dt.timedelta(hours=read_hours), hashtags=["Radiology"], raw=kw.pop("raw", {"id": str(i)}), **kw,
    )


def stored(db) -> dict[str, tuple]:
    with db.engine.connect() as conn:
        rows = conn.execute(select(Post.external_id, Post.like_count, Post.repost_count, Post.metrics_read_at)).all()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def test_first_insert_then_reingest_counts_and_refreshes(db):
    with db.engine.begin() as conn:
        first = upsert_posts(conn, [post(i, 1, 0) for i in range(10)])
    assert (first.new, first.updated) == (10, 0)
    assert len(first.ids) == 10
    with db.engine.begin() as conn:
        again = upsert_posts(conn, [post(i, 5, 1) for i in range(5, 15)])
    assert (again.new, again.updated) == (5, 5)
    rows = stored(db)
    assert len(rows) == 15
    assert rows["0"][0] == 1 and rows["7"][0] == 5 and rows["14"][0] == 5
    assert rows["7"][2] == T0 + dt.timedelta(hours=1)
    assert again.ids[("x", "7")] == first.ids[("x", "7")]


def test_older_reading_never_overwrites_newer_metrics(db):
    with db.engine.begin() as conn:
        upsert_posts(conn, [post(1, 50, 10)])
    with db.engine.begin() as conn:
        upsert_posts(conn, [post(1, 3, 2)])  # e.g. an old archive imported later
    assert stored(db)["1"][:2] == (50, 25)


def test_deleted_post_is_purged_and_never_restored(db):
    with db.engine.begin() as conn:
        upsert_posts(conn, [post(1, 5, 0)])
    gone = post(1, 5, 1, is_deleted=True)
    gone.text = None
    with db.engine.begin() as conn:
        upsert_posts(conn, [gone])
    with db.engine.begin() as conn:
        upsert_posts(conn, [post(1, 9, 2)])  # re-ingested from an old archive
    with db.engine.connect() as conn:
        row = conn.execute(select(Post.text, Post.raw, Post.is_deleted, Post.deleted_at)).one()
    assert row.text is None and row.raw is None and row.is_deleted and row.deleted_at is not None


def test_text_change_moves_text_changed_at_only_when_text_changes(db):
    with db.engine.begin() as conn:
        upsert_posts(conn, [post(1, 1, 0)], now=T0)
    with db.engine.begin() as conn:
        upsert_posts(conn, [post(1, 2, 1)], now=T0 + dt.timedelta(hours=1))
    with db.engine.connect() as conn:
        assert conn.execute(select(Post.text_changed_at)).scalar() == T0
    with db.engine.begin() as conn:
        upsert_posts(conn, [post(1, 2, 2, text="edited")], now=T0 + dt.timedelta(hours=2))
    with db.engine.connect() as conn:
        assert conn.execute(select(Post.text_changed_at)).scalar() == T0 + dt.timedelta(hours=2)


def test_times_come_back_timezone_aware_utc(db):
    with db.engine.begin() as conn:
        upsert_posts(conn, [post(1, 1, 0)])
    with db.session() as s:
        p = s.scalars(select(Post)).one()
        assert p.created_at == T0 and p.created_at.tzinfo is not None
        assert p.hashtags == ["Radiology"] and p.raw == {"id": "1"}


def test_a_failure_in_the_middle_of_a_batch_leaves_nothing_half_written(db):
    with db.engine.begin() as conn:
        upsert_posts(conn, [post(i, 1, 0) for i in range(3)])
    bad = post(99, 1, 0)
    bad.created_at = None  # NOT NULL violation in the middle of the batch
    batch = [post(i, 7, 5) for i in range(2, 6)] + [bad] + [post(i, 7, 5) for i in range(6, 9)]
    with pytest.raises(Exception):
        with db.engine.begin() as conn:
            upsert_authors(conn, [AuthorRecord("x", "new-author", handle="n")])
            upsert_posts(conn, batch)
    rows = stored(db)
    assert sorted(rows) == ["0", "1", "2"]
    assert all(likes == 1 for likes, _, _ in rows.values())
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Author)).scalar() == 0


def test_authors_refresh_and_keep_fields_the_payload_lacks(db):
    with db.engine.begin() as conn:
        r = upsert_authors(conn, [AuthorRecord("x", "1", handle="rad", bio="Radiologist", followers=10)])
    assert (r.new, r.updated) == (1, 0)
    with db.engine.begin() as conn:
        r = upsert_authors(conn, [AuthorRecord("x", "1", handle="rad2", followers=12)])
    assert (r.new, r.updated) == (0, 1)
    with db.engine.connect() as conn:
        row = conn.execute(select(Author.handle, Author.bio, Author.followers)).one()
    assert tuple(row) == ("rad2", "Radiologist", 12)


def test_same_paper_in_different_doi_forms_is_one_article(db):
    forms = [
        ArticleRecord(doi="10.1148/RADIOL.2026.1234", title="From the feed", source="feed"),
        ArticleRecord(doi="doi:10.1148/radiol.2026.1234", pmid="39999999", source="pubmed"),
        ArticleRecord(doi="https://doi.org/10.1148%2Fradiol.2026.1234", journal="Radiology", source="crossref"),
    ]
    for rec in forms:
        with db.engine.begin() as conn:
            upsert_articles(conn, [rec])
    with db.engine.connect() as conn:
        rows = conn.execute(select(Article.key, Article.title, Article.pmid, Article.journal, Article.sources)).all()
    assert len(rows) == 1
    key, title, pmid, journal, sources = rows[0]
    assert key == "doi:10.1148/radiol.2026.1234"
    assert (title, pmid, journal) == ("From the feed", "39999999", "Radiology")
    assert sorted(sources) == ["crossref", "feed", "pubmed"]


batches = st.lists(
    st.lists(st.tuples(st.integers(0, 25), st.integers(0, 1000), st.integers(0, 50)), min_size=0, max_size=30),
    min_size=1, max_size=6,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=batches)
def test_idempotency_property(db, batches):
    """Any sequence of repeated and overlapping batches leaves each item once with its latest metrics."""
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM posts"))
    expected: dict[str, tuple[int, int]] = {}
    for batch in batches:
        with db.engine.begin() as conn:
            upsert_posts(conn, [post(i, likes, hours) for i, likes, hours in batch])
        for i, likes, hours in batch:
            old = expected.get(str(i))
            if old is None or hours >= old[1]:
                expected[str(i)] = (likes, hours)
    rows = stored(db)
    assert set(rows) == set(expected)
    for ext, (likes, hours) in expected.items():
        assert rows[ext][2] == T0 + dt.timedelta(hours=hours)
        assert rows[ext][0] == likes


@pytest.mark.parametrize("platform", ["mastodon", "toy-fediverse"])
def test_a_per_community_merge_rule_keeps_the_best_counts(db, platform):
    """The rule the Mastodon collector declares; the store applies it to any platform given it."""
    rule = MastodonCollector.merge_rule
    assert rule == MergeRule(per_community=True)

    def toot(instance: str, likes: int, hours: int) -> PostRecord:
        return post(1, likes, hours, platform=platform, community=instance)

    with db.engine.begin() as conn:
        upsert_posts(conn, [toot("med-mastodon.com", 30, 0)], rule=rule)
    with db.engine.begin() as conn:  # a small instance sees fewer favourites, later
        upsert_posts(conn, [toot("small.example", 4, 5)], rule=rule)
    with db.engine.connect() as conn:
        assert tuple(conn.execute(select(Post.like_count, Post.community)).one()) == (30, "med-mastodon.com")
    with db.engine.begin() as conn:  # another instance that sees more raises the count
        upsert_posts(conn, [toot("mastodon.social", 45, 6)], rule=rule)
    with db.engine.connect() as conn:
        assert tuple(conn.execute(select(Post.like_count, Post.community)).one()) == (45, "med-mastodon.com")
    with db.engine.begin() as conn:  # the refresh on the first instance replaces as usual
        upsert_posts(conn, [toot("med-mastodon.com", 41, 7)], rule=rule)
    with db.engine.connect() as conn:
        assert tuple(conn.execute(select(Post.like_count, Post.community)).one()) == (41, "med-mastodon.com")


def test_without_a_rule_the_newest_reading_wins_whatever_the_platform(db):
    """No platform name is special-cased in the store: Mastodon posts written without the rule
    (the demo, a tool) merge like any other."""
    with db.engine.begin() as conn:
        upsert_posts(conn, [post(1, 30, 0, platform="mastodon", community="med-mastodon.com")])
    with db.engine.begin() as conn:
        upsert_posts(conn, [post(1, 4, 5, platform="mastodon", community="small.example")])
    with db.engine.connect() as conn:
        assert tuple(conn.execute(select(Post.like_count, Post.community)).one()) == (4, "small.example")


def test_raw_payloads_are_stored_as_json_text_and_read_back_whole(db):
    """SQLite takes raw payloads as UTF-8 bytes cast to TEXT: they must stay text, not blobs."""
    payload = {"id": "1", "text": "Ground-glass 🫁 opacities — «naïve» ✓", "nested": {"n": [1, 2.5, None]}}
    with db.engine.begin() as conn:
        upsert_authors(conn, [AuthorRecord("x", "u1", handle="rad", raw={"bio": "Radiologue à Montréal 🩻"})])
        upsert_posts(conn, [post(1, 1, 0, raw=payload)])
    with db.engine.connect() as conn:
        assert conn.execute(select(Post.raw)).scalar() == payload
        assert conn.execute(select(Author.raw)).scalar() == {"bio": "Radiologue à Montréal 🩻"}
        if db.engine.dialect.name == "sqlite":
            kinds = conn.execute(text("SELECT typeof(raw), json_extract(raw, '$.text') FROM posts")).one()
            assert kinds == ("text", payload["text"])
            assert conn.execute(text("SELECT typeof(raw) FROM authors")).scalar() == "text"
        else:
            assert conn.execute(text("SELECT raw->>'text' FROM posts")).scalar() == payload["text"]


def test_columns_null_in_a_whole_batch_keep_stored_values_and_flags_read_back(db):
    """SQLite leaves all-NULL columns out of the INSERT: the result must be the same as binding them."""
    first = [post(i, 1, 0, title=f"t{i}", url=f"https://x.example/{i}", has_media=True, language="en") for i in range(3)]
    with db.engine.begin() as conn:
        upsert_posts(conn, first)
    later = [post(i, 5, 1, url=None, title=None, language=None) for i in range(5)]  # no title/url/language at all
    later[4].language = "fr"  # one row has a value: that column is written for every row
    with db.engine.begin() as conn:
        result = upsert_posts(conn, later)
    assert (result.new, result.updated) == (2, 3)
    with db.engine.connect() as conn:
        rows = {r.external_id: r for r in conn.execute(select(Post))}
    assert [(rows[str(i)].title, rows[str(i)].url, rows[str(i)].language) for i in range(5)] == [
        ("t0", "https://x.example/0", "en"), ("t1", "https://x.example/1", "en"), ("t2", "https://x.example/2", "en"),
        (None, None, None), (None, None, "fr")]
    assert [rows[str(i)].has_media for i in range(5)] == [True, True, True, False, False]
    assert all(r.is_deleted is False and r.synthetic is False and r.like_count == 5 for r in rows.values())
