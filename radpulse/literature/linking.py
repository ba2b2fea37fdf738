"""Linking posts to the papers they cite: `mentions` rows, stub articles, and reconciliation.

- `link_batch` is an after-batch step the CLI and the scheduler give the runner: posts just stored are linked in the same
  transaction, and articles just collected absorb stubs created earlier from mentions.
- `link_posts(conn, post_ids)` links stored posts by id; `link_all(db)` is the bulk pass over
  every stored post (streamed in id order, one transaction per chunk).

A citation resolves to an existing article by DOI (key), PMID, PMC id or canonical URL;
otherwise a stub article is created (`sources=["mention"]`, `crossref_status` NULL), which
queues DOIs for Crossref enrichment. Each (post, article) pair is stored once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, Text, cast, delete, select, update

from radpulse.db.engine import Database
from radpulse.db.models import Article, Mention, Post
from radpulse.db.store import chunks, insert_for, upsert_articles
from radpulse.identifiers import (
    article_key,
    normalise_doi,
    normalise_pmcid,
    normalise_pmid,
    pmc_url,
    pubmed_url,
)
from radpulse.literature.links import Citation, extract_citations, might_cite
from radpulse.records import ArticleRecord, Batch, utcnow

ARTICLES: Table = Article.__table__  # type: ignore[assignment]
MENTIONS: Table = Mention.__table__  # type: ignore[assignment]
POSTS: Table = Post.__table__  # type: ignore[assignment]
IN_CHUNK = 900


@dataclass
class LinkResult:
    """What a linking pass did."""

    posts: int = 0
    posts_citing: int = 0
    mentions: int = 0
    stubs: int = 0

    def __iadd__(self, other: LinkResult) -> LinkResult:  # noqa: PYI034 - a dataclass, not subclassed
        self.posts += other.posts
        self.posts_citing += other.posts_citing
        self.mentions += other.mentions
        self.stubs += other.stubs
        return self


def _stub(c: Citation) -> ArticleRecord:
    if c.kind == "doi":
        return ArticleRecord(doi=c.value, source="mention")
    if c.kind == "pmid":
        return ArticleRecord(pmid=c.value, url=pubmed_url(c.value), source="mention")
    if c.kind == "pmcid":
        return ArticleRecord(pmcid=c.value, url=pmc_url(c.value), source="mention")
    return ArticleRecord(url=c.value, source="mention")


def resolve_citations(conn: Connection, citations: Iterable[Citation]) -> tuple[dict[tuple[str, str], int], int]:
    """Article id of every (kind, value); unknown ones get stub articles. Returns (ids, stubs made)."""
    wanted: dict[str, set[str]] = {"doi": set(), "pmid": set(), "pmcid": set(), "url": set()}
    for c in citations:
        wanted[c.kind].add(c.value)
    ids: dict[tuple[str, str], int] = {}
    a = ARTICLES.c
    # prefer DOI-keyed (fully identified) articles when several share a PMID, PMC id or URL
    lookups = (("doi", a.key, lambda v: f"doi:{v}"), ("pmid", a.pmid, str), ("pmcid", a.pmcid, str),
               ("url", a.url, str), ("url", a.key, lambda v: f"url:{v}"))
    for kind, column, to_db in lookups:
        values = sorted(v for v in wanted[kind] if (kind, v) not in ids)
        for chunk in chunks(values, IN_CHUNK):
            back = {to_db(v): v for v in chunk}
            rows = conn.execute(select(a.id, column, a.key).where(column.in_(list(back))).order_by(a.id))
            best: dict[str, tuple[bool, int]] = {}
            for art_id, matched, key in rows:
                rank = (not str(key).startswith("doi:"), art_id)
                if matched not in best or rank < best[matched]:
                    best[matched] = rank
            for matched, (_, art_id) in best.items():
                ids[(kind, back[matched])] = art_id
    missing = [Citation(kind, v, "") for kind, values in wanted.items() for v in values if (kind, v) not in ids]
    if missing:
        stubs = [_stub(c) for c in missing]
        result = upsert_articles(conn, stubs)
        for c, stub in zip(missing, stubs):
            ids[(c.kind, c.value)] = result.ids[article_key(doi=stub.doi, pmid=stub.pmid, url=stub.url)]
    return ids, len(missing)


def store_mentions(conn: Connection, cited: dict[int, list[Citation]], *, now: dt.datetime | None = None) -> LinkResult:
    """Create the mentions of posts (post id -> citations found in it)."""
    result = LinkResult(posts_citing=sum(1 for c in cited.values() if c))
    if not result.posts_citing:
        return result
    ids, result.stubs = resolve_citations(conn, (c for cs in cited.values() for c in cs))
    now = now or utcnow()
    rows, seen = [], set()
    for post_id, citations in cited.items():
        for c in citations:
            article_id = ids[(c.kind, c.value)]
            if (post_id, article_id) not in seen:
                seen.add((post_id, article_id))
                rows.append({"post_id": post_id, "article_id": article_id, "kind": c.kind,
                             "matched": c.matched[:2000], "created_at": now})
    stmt = (insert_for(conn, MENTIONS).on_conflict_do_nothing(index_elements=["post_id", "article_id"])
            .returning(MENTIONS.c.id))
    for chunk in chunks(rows, 2000):
        result.mentions += len(conn.execute(stmt, list(chunk)).all())
    return result


def _links(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _cite(title: str | None, text: str | None, links_text: str | None) -> list[Citation]:
    body = f"{title}\n{text}" if title and text else (title or text or "")
    has_links = bool(links_text) and links_text != "[]" and might_cite(links_text)  # type: ignore[arg-type]
    if not has_links and not (body and might_cite(body)):
        return []
    return extract_citations(body, _links(links_text) if has_links else ())


def link_posts(conn: Connection, post_ids: Iterable[int], *, now: dt.datetime | None = None) -> LinkResult:
    """Link the stored posts `post_ids` to the papers they cite (idempotent)."""
    ids = sorted(set(post_ids))
    cited: dict[int, list[Citation]] = {}
    p = POSTS.c
    for chunk in chunks(ids, IN_CHUNK):
        query = select(p.id, p.title, p.text, cast(p.links, Text)).where(p.id.in_(list(chunk)), p.is_deleted.is_(False))
        for post_id, title, text, links in conn.execute(query):
            if found := _cite(title, text, links):
                cited[post_id] = found
    result = store_mentions(conn, cited, now=now)
    result.posts = len(ids)
    return result


def reconcile_articles(conn: Connection, records: Sequence[ArticleRecord]) -> int:
    """Fold mention-only stubs into collected articles that turn out to be the same paper.

    A post citing PMID 123 makes the stub `pmid:123`; when PubMed later brings the paper keyed on
    its DOI with PMID 123, the stub's mentions move to it and the stub is deleted. Returns the
    number of stubs folded.
    """
    a, m = ARTICLES.c, MENTIONS.c
    alias_of: dict[str, str] = {}  # stub key -> the DOI key of the collected article
    for rec in records:
        doi = normalise_doi(rec.doi)
        if not doi:
            continue
        aliases = []
        if pmid := normalise_pmid(rec.pmid):
            aliases += [f"pmid:{pmid}", f"url:{pubmed_url(pmid)}"]
        if pmcid := normalise_pmcid(rec.pmcid):
            aliases.append(f"url:{pmc_url(pmcid)}")
        if rec.url:  # collectors store canonical article URLs already
            aliases.append(f"url:{rec.url}")
        for alias in aliases:
            alias_of[alias] = f"doi:{doi}"
    stubs = []
    keys = sorted(alias_of)
    for chunk in chunks(keys, IN_CHUNK):  # one query per batch: usually nothing to fold
        stubs += conn.execute(select(a.id, a.key, a.sources).where(a.key.in_(list(chunk)))).all()
    folded = 0
    for stub_id, stub_key, sources in stubs:
        if list(sources or []) != ["mention"]:
            continue  # a collected article of its own: never merged silently
        real = conn.execute(select(a.id).where(a.key == alias_of[stub_key])).scalar()
        if real is None or real == stub_id:
            continue
        taken = select(m.post_id).where(m.article_id == real).scalar_subquery()
        conn.execute(update(MENTIONS).where(m.article_id == stub_id, m.post_id.not_in(taken)).values(article_id=real))
        conn.execute(delete(MENTIONS).where(m.article_id == stub_id))
        conn.execute(delete(ARTICLES).where(a.id == stub_id))
        folded += 1
    return folded


def link_batch(conn: Connection, batch: Batch, post_ids: dict[Any, int]) -> None:
    """After-batch step (see collectors.runner.AfterBatch): link the batch's posts, fold stubs into its articles."""
    if batch.posts and post_ids:
        cited: dict[int, list[Citation]] = {}
        for post in batch.posts:
            if post.is_deleted:
                continue
            body = f"{post.title}\n{post.text}" if post.title and post.text else (post.title or post.text or "")
            # extract_citations reads the text's markers itself: the cheap screen is for posts without links
            if (post.links or might_cite(body)) and (found := extract_citations(body, post.links)):
                post_id = post_ids.get((post.platform, post.external_id))
                if post_id is not None:
                    cited[post_id] = found
        store_mentions(conn, cited)
    if batch.articles:
        reconcile_articles(conn, batch.articles)


def link_all(db: Database, *, chunk_size: int = 50_000, since_id: int = 0) -> LinkResult:
    """Link every stored post (id > since_id), streamed in id order, one transaction per chunk;
    the rollups of the days that gained mentions are refreshed at the end."""
    from radpulse.db.rollups import mark_post_days, refresh_stale_rollups

    total = LinkResult()
    p = POSTS.c
    last = since_id
    while True:
        with db.engine.begin() as conn:
            rows = conn.execute(
                select(p.id, p.title, p.text, cast(p.links, Text))
                .where(p.id > last, p.is_deleted.is_(False)).order_by(p.id).limit(chunk_size)
            ).all()
            if not rows:
                break
            cited = {}
            for post_id, title, text, links in rows:
                if found := _cite(title, text, links):
                    cited[post_id] = found
            result = store_mentions(conn, cited)
            if result.mentions:  # the article rollups of those days change
                mark_post_days(conn, cited)
            result.posts = len(rows)
            total += result
            last = rows[-1][0]
    if total.mentions:
        refresh_stale_rollups(db)
    return total


__all__ = ["LinkResult", "link_all", "link_batch", "link_posts", "reconcile_articles",
           "resolve_citations", "store_mentions"]
