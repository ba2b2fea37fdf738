"""Migration 0004l: article URL keys recomputed with identity query parameters, nothing merged wrongly."""

from __future__ import annotations

import json

from sqlalchemy import text

from radpulse.db.engine import current_revision, downgrade, head_revision, open_database, upgrade

NOW = "2026-01-02 03:04:05"
AUNT = "https://www.auntminnie.com/index.aspx?sec=ser&sub=def&pag=dis&ItemID=140012&utm_source=twitter"
LWW = "https://journals.lww.com/ir/Fulltext/2021/05000/articleviewer.aspx?year=2021&issue=05000&article=00001&af=R"

#: (id, key, url, title, pmcid, sources, raw) as 0003 stored them: queries dropped
ARTICLES = [
    (1, "url:https://auntminnie.com/index.aspx", "https://auntminnie.com/index.aspx", "AI triage in the ED", None,
     ["feed"], {"link": AUNT, "title": "AI triage in the ED"}),
    (2, "url:https://example.org/~lab/paper", "https://example.org/~lab/paper", "Paper one", None, ["mention"], None),
    (3, "url:https://example.org/%7Elab/paper", "https://example.org/%7Elab/paper", "  paper ONE ", "PMC42",
     ["feed"], None),
    (4, "url:https://example.org/%7Elab/other", "https://example.org/%7Elab/other", "Other A", None, ["feed"], None),
    (5, "url:https://example.org/%7elab/other", "https://example.org/%7elab/other", "Other B", None, ["feed"], None),
    (6, "doi:10.1097/rli.0000000000000001", "https://journals.lww.com/ir/Fulltext/2021/05000/articleviewer.aspx",
     "LWW paper", None, ["feed"], {"link": LWW}),
    (7, "url:https://sciencedirect.com/science/article/pii/S0022347618311193",
     "https://sciencedirect.com/science/article/pii/S0022347618311193", None, None, ["mention"], None),
]
#: (post id, article id)
MENTIONS = [(1, 2), (2, 2), (2, 3), (3, 3), (4, 4), (5, 5), (6, 7)]


def _seed(conn, dialect: str) -> None:  # type: ignore[no-untyped-def]
    js = "CAST(:{} AS jsonb)" if dialect == "postgresql" else ":{}"
    raw = "CAST(:raw AS json)" if dialect == "postgresql" else ":raw"
    for post_id in range(1, 7):
        conn.execute(text(
            "INSERT INTO posts (id, platform, external_id, text, created_at, has_media, links, hashtags, mentions, "
            f"is_deleted, synthetic, first_seen_at, collected_at, text_changed_at) VALUES (:id, 'x', :ext, 't', :now, "
            f"false, {js.format('e')}, {js.format('e')}, {js.format('e')}, false, false, :now, :now, :now)"),
            {"id": post_id, "ext": str(post_id), "now": NOW, "e": "[]"})
    for art_id, key, url, title, pmcid, sources, payload in ARTICLES:
        conn.execute(text(
            "INSERT INTO articles (id, key, url, title, pmcid, authors, mesh_terms, sources, raw, synthetic, "
            f"first_seen_at, updated_at) VALUES (:id, :key, :url, :title, :pmcid, {js.format('e')}, {js.format('e')}, "
            f"{js.format('sources')}, {raw}, false, :now, :now)"),
            {"id": art_id, "key": key, "url": url, "title": title, "pmcid": pmcid, "e": "[]",
             "sources": json.dumps(sources), "raw": json.dumps(payload) if payload else None, "now": NOW})
    for i, (post_id, art_id) in enumerate(MENTIONS, 1):
        conn.execute(text("INSERT INTO mentions (id, post_id, article_id, kind, matched, created_at) "
                          "VALUES (:id, :p, :a, 'url', 'm', :now)"), {"id": i, "p": post_id, "a": art_id, "now": NOW})


def test_upgrade_recomputes_url_keys_and_merges_only_the_same_article(db_url: str) -> None:
    db = open_database(db_url, migrate=False)
    upgrade(db.engine, "0003")  # a fresh SQLite file
    if current_revision(db.engine) != "0003":
        downgrade(db.engine, "0003")  # the (emptied) PostgreSQL database of this test process
    assert current_revision(db.engine) == "0003"
    with db.engine.begin() as conn:
        _seed(conn, db.engine.dialect.name)
    db.dispose()
    db = open_database(db_url)  # upgrades to head
    assert current_revision(db.engine) == head_revision()
    with db.engine.connect() as conn:
        arts = {r.id: r for r in conn.execute(text("SELECT id, key, url, title, pmcid, sources FROM articles"))}
        mentions = sorted(tuple(r) for r in conn.execute(text("SELECT post_id, article_id FROM mentions")))
    # the AuntMinnie item gets the key of the item it holds: identity parameters kept, tracking gone
    assert arts[1].key == "url:https://auntminnie.com/index.aspx?ItemID=140012&pag=dis&sec=ser&sub=def"
    assert arts[1].url == arts[1].key[4:]
    # %7E and ~ are one article (same title up to case and spacing): 3 folded into 2, which had the key
    assert 3 not in arts
    assert arts[2].key == "url:https://example.org/~lab/paper" and arts[2].pmcid == "PMC42"
    assert sorted(json.loads(arts[2].sources) if isinstance(arts[2].sources, str) else arts[2].sources) == [
        "feed", "mention"]
    # colliding keys but different titles: two papers, never merged; the older takes the new key
    assert arts[4].key == "url:https://example.org/~lab/other" and arts[5].key == "url:https://example.org/%7elab/other"
    # DOI-keyed: key unchanged, URL now carries the article's identity parameters (af=R dropped)
    assert arts[6].key == "doi:10.1097/rli.0000000000000001"
    assert arts[6].url == "https://journals.lww.com/ir/Fulltext/2021/05000/articleviewer.aspx?article=00001&issue=05000&year=2021"
    assert arts[7].key == ARTICLES[6][1]  # nothing to change
    # every post keeps its mention, once per article; post 2 cited both halves of the merged pair
    assert mentions == [(1, 2), (2, 2), (3, 2), (4, 4), (5, 5), (6, 7)]
    db.dispose()
