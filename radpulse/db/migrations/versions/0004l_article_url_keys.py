"""articles: URL keys keep identity query parameters (?ItemID=, ?article=, ?pid=, ?v=)

Until 0003 an article's canonical URL dropped the whole query string, so AuntMinnie, LWW,
SciELO, SSRN and YouTube items collapsed into one key. Canonical URLs now drop only tracking
parameters and decode unreserved escapes (`%7E` = `~`). This migration recomputes `articles.url`
and the `url:` keys from the URL each article was collected from (a feed entry's `link` or `id`,
a Crossref landing page), when that URL is the one the stored value was made from; otherwise
the stored URL is re-normalised.

Articles whose new keys collide are merged only when they are the same article: no conflicting
PMC id or title. The survivor is the row that already had the key, else the oldest; mentions move
to it (one per post), sources are united, empty fields filled. An article that collides but is
a different paper keeps its old key. Rows cut together before this migration cannot be split:
their payload holds only the last item collected, and that item's key is what they get.

Downgrade keeps the new keys (the old rule cannot tell the merged articles apart again).

Revision ID: 0004l
Revises: 0003
Create Date: 2026-12-01 13:00:00
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

# the bottom layer (standard library only): the same normalisation the collectors now apply
from radpulse.identifiers import article_key, canonical_article_url

revision = '0004l'
down_revision = '0003'
branch_labels = None
depends_on = None

ARTICLES = sa.table(
    "articles", sa.column("id", sa.BigInteger), sa.column("key", sa.String), sa.column("doi", sa.String),
    sa.column("pmid", sa.String), sa.column("pmcid", sa.String), sa.column("url", sa.Text),
    sa.column("title", sa.Text), sa.column("journal", sa.Text), sa.column("issn", sa.String),
    sa.column("abstract", sa.Text), sa.column("published_date"), sa.column("sources", sa.JSON),
    sa.column("raw", sa.JSON), sa.column("first_seen_at"),
)
MENTIONS = sa.table("mentions", sa.column("id", sa.BigInteger), sa.column("post_id", sa.BigInteger),
                    sa.column("article_id", sa.BigInteger))
CHUNK = 5000
FILLED = ("pmcid", "title", "journal", "issn", "abstract", "published_date")


def source_url(raw: Any) -> str | None:
    """The URL an article was collected from: a feed entry's link (or URL id), a Crossref landing page."""
    if not isinstance(raw, dict):
        return None
    if isinstance(link := raw.get("link"), str) and link:
        return link
    if isinstance(guid := raw.get("id"), str) and guid.startswith(("http://", "https://")):
        return guid
    landing = ((raw.get("resource") or {}).get("primary") or {}).get("URL") if isinstance(raw.get("resource"), dict) else None
    return landing if isinstance(landing, str) else None


def _without_query(url: str | None) -> str:
    return (url or "").split("?", 1)[0]


def new_url(stored: str | None, raw: Any) -> str | None:
    """The article's URL under the new rule: from its source URL when the stored one was made from it."""
    renormalised = canonical_article_url(stored) if stored else None
    if (src := source_url(raw)) and (fresh := canonical_article_url(src)):
        if _without_query(fresh) == _without_query(renormalised) or renormalised is None:
            return fresh
    return renormalised or stored


def _title(value: str | None) -> str:
    return " ".join((value or "").casefold().split())


def same_article(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Colliding keys are one article unless a PMC id or a title says otherwise."""
    if a["pmcid"] and b["pmcid"] and a["pmcid"] != b["pmcid"]:
        return False
    return not (a["title"] and b["title"] and _title(a["title"]) != _title(b["title"]))


def _merge(bind: sa.engine.Connection, keep: dict[str, Any], gone: dict[str, Any]) -> None:
    """Fold article `gone` into `keep`: mentions move (one per post), sources united, empty fields filled."""
    m, a = MENTIONS.c, ARTICLES.c
    taken = sa.select(m.post_id).where(m.article_id == keep["id"]).scalar_subquery()
    bind.execute(sa.update(MENTIONS).where(m.article_id == gone["id"], m.post_id.not_in(taken))
                 .values(article_id=keep["id"]))
    bind.execute(sa.delete(MENTIONS).where(m.article_id == gone["id"]))
    bind.execute(sa.delete(ARTICLES).where(a.id == gone["id"]))
    values: dict[str, Any] = {f: gone[f] for f in FILLED if keep[f] is None and gone[f] is not None}
    values["sources"] = sorted(set(keep["sources"] or []) | set(gone["sources"] or []))
    if gone["first_seen_at"] and keep["first_seen_at"] and gone["first_seen_at"] < keep["first_seen_at"]:
        values["first_seen_at"] = gone["first_seen_at"]
    bind.execute(sa.update(ARTICLES).where(a.id == keep["id"]).values(**values))
    keep.update(values)


def _new_values(bind: sa.engine.Connection) -> tuple[dict[int, str | None], dict[str, list[tuple[int, str]]]]:
    """Every article's new URL where it changes, and url-keyed articles by new key, read in id chunks."""
    a = ARTICLES.c
    url_changes: dict[int, str | None] = {}
    groups: dict[str, list[tuple[int, str]]] = {}
    last = 0
    while True:
        rows = bind.execute(sa.select(a.id, a.key, a.url, a.raw).where(a.id > last).order_by(a.id).limit(CHUNK)).all()
        if not rows:
            return url_changes, groups
        for art_id, key, url, raw in rows:
            fresh = new_url(url, raw)
            if fresh != url:
                url_changes[art_id] = fresh
            if key.startswith("url:"):
                groups.setdefault(article_key(url=fresh) if fresh else key, []).append((art_id, key))
        last = rows[-1][0]


def upgrade() -> None:
    bind = op.get_bind()
    a = ARTICLES.c
    url_changes, groups = _new_values(bind)
    key_changes: dict[int, str] = {}
    for key, members in groups.items():
        anchor_id = next((i for i, old in members if old == key), members[0][0])
        if len(members) > 1:
            ids = [i for i, _ in members]
            full = {r["id"]: dict(r) for r in bind.execute(
                sa.select(a.id, a.pmcid, a.title, a.journal, a.issn, a.abstract, a.published_date, a.sources,
                          a.first_seen_at).where(a.id.in_(ids))).mappings()}
            anchor = full[anchor_id]
            for art_id in ids:
                if art_id != anchor_id and same_article(anchor, full[art_id]):
                    _merge(bind, anchor, full[art_id])
                    url_changes.pop(art_id, None)
                # a different paper under a colliding key keeps its old key
        if dict(members)[anchor_id] != key:
            key_changes[anchor_id] = key
    # two steps so that keys moving between rows never meet the unique constraint
    stmt = sa.update(ARTICLES).where(a.id == sa.bindparam("b_id")).values(key=sa.bindparam("b_key"))
    if key_changes:
        bind.execute(stmt, [{"b_id": i, "b_key": f"migrating-0004l:{i}"} for i in key_changes])
        bind.execute(stmt, [{"b_id": i, "b_key": k} for i, k in key_changes.items()])
    if url_changes:
        bind.execute(sa.update(ARTICLES).where(a.id == sa.bindparam("b_id")).values(url=sa.bindparam("b_url")),
                     [{"b_id": i, "b_url": u} for i, u in url_changes.items()])


def downgrade() -> None:
    """Keys and URLs stay as they are: the old rule would fold distinct articles together again."""
