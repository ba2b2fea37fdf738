"""Literature throughput: feed items parsed and stored, posts linked to the papers they cite.

    .venv/bin/python benchmarks/bench_literature.py [--items 20000] [--posts 1000000] [--postgres URL]

* feeds: journal table-of-contents documents (RSS 1.0 with dc:/prism: fields, shaped like the
  recorded Elsevier feed in ../shared/fixtures/literature, 100 items per feed) parsed by
  feedparser + `parse_feed` and stored by the runner's `consume` (one transaction per feed);
  target >= 2,000 items/s.
* linking: `link_all` over N stored posts (2% cite a DOI, PubMed, PMC or journal link in the
  text or the expanded links; the rest is ordinary chatter with URLs, hashtags and numbers that
  look like identifiers), streamed from the database, mentions and stub articles written;
  target >= 50,000 posts/s at 1,000,000 posts. Extraction alone is reported too.

SQLite (a file in a temporary folder) by default; `--postgres` runs against that server too.
Rates are printed per wall-clock second and per second of this process's CPU time (the second
is what to compare when other work shares the machine's two cores).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select, text

from radpulse.collection import after_batch_steps
from radpulse.collectors.feeds.normalise import parse_feed
from radpulse.collectors.runner import RunSummary, consume, start_run
from radpulse.config import DatabaseSettings
from radpulse.db.engine import Database, open_database
from radpulse.db.models import Article, Mention, Post
from radpulse.db.store import POST_COLUMNS, Values, post_rows
from radpulse.literature.linking import link_all
from radpulse.literature.links import extract_citations, might_cite
from radpulse.records import Batch, PostRecord, SourceSpec

FEED_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:prism="http://prismstandard.org/namespaces/1.2/basic/">
<channel rdf:about="https://www.jacr.org/current.rss"><title>Journal of the American College of Radiology</title>
<link>https://www.jacr.org/</link><prism:publicationName>Journal of the American College of Radiology</prism:publicationName>
<prism:issn>1546-1440</prism:issn><prism:publicationDate>2025-11-17-08:00</prism:publicationDate></channel>
"""
FEED_ITEM = """<item rdf:about="https://www.jacr.org/article/S1546-1440(25){n:05d}-{c}/fulltext?rss=yes">
<title>{title}</title><link>https://www.jacr.org/article/S1546-1440(25){n:05d}-{c}/fulltext?rss=yes</link>
<description>{abstract}</description><dc:title>{title}</dc:title>
<dc:creator>{authors}</dc:creator><dc:identifier>10.1016/j.jacr.2025.{n:05d}</dc:identifier>
<dc:source>J Am Coll Radiol 22, (2025)</dc:source><dc:date>2025-11-{day:02d}</dc:date>
<prism:publicationName>Journal of the American College of Radiology</prism:publicationName>
<prism:publicationDate>2025-11-{day:02d}</prism:publicationDate><prism:volume>22</prism:volume>
<prism:section>Original Article</prism:section><prism:startingPage>{n}</prism:startingPage></item>
"""
WORDS = ["radiology", "imaging", "CT", "MRI", "ultrasound", "PET", "mammography", "screening", "deep", "learning", "workflow", "contrast", "nodule", "stroke", "fracture", "liver", "prostate", "breast", "lung", "reporting", "burnout", "residency", "workforce", "dose", "protocol", "appropriateness", "trial", "cohort", "outcomes", "guideline", "incidental"]
NAMES = ("Ana Lopez", "Ben Okafor", "Chen Wei", "Dana Cohen", "Emil Berg", "Fatima Khan", "Gus Moreau",
         "Hana Sato", "Ivan Petrov", "Julia Rossi")


def feed_documents(items: int, per_feed: int = 100, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    docs, n = [], 0
    while n < items:
        body = []
        for _ in range(min(per_feed, items - n)):
            n += 1
            title = " ".join(rng.choices(WORDS, k=10)).capitalize()
            abstract = " ".join(rng.choices(WORDS, k=60))
            body.append(FEED_ITEM.format(n=n, c=rng.randint(0, 9), title=title, abstract=abstract,
                                         authors=", ".join(rng.sample(NAMES, 5)), day=rng.randint(1, 28)))
        docs.append((FEED_HEAD + "".join(body) + "</rdf:RDF>").encode())
    return docs


def bench_feeds(db: Database, items: int) -> tuple[float, float]:
    docs = feed_documents(items)
    source = SourceSpec("feed:bench", "feeds", "feed", "https://www.jacr.org/current.rss", {"journal": None})
    summary = RunSummary(source=source.name, platform="feeds")
    summary.run_id = start_run(db, source.name, None, "collect")
    now = dt.datetime.now(dt.UTC)

    def batches():  # type: ignore[no-untyped-def]
        for doc in docs:
            parsed = parse_feed(doc, feed_url=source.value, retrieved_at=now)
            yield Batch(articles=parsed.articles, quarantined=parsed.quarantined, warnings=parsed.warnings)

    start, cpu = time.perf_counter(), time.process_time()
    consume(db, batches(), summary, source=source,
            after_batch=after_batch_steps(), commit_items=DatabaseSettings().commit_items)  # as `radpulse collect`
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    with db.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(Article)).scalar()
    assert summary.new == items and stored == items, (summary.new, stored)
    return items / elapsed, items / cpu


CITING = (
    "New in Radiology: doi:10.1148/radiol.{n} worth a read #radres",
    "Our paper is out https://doi.org/10.1007/s00330-025-{n}-x",
    "PMID: {n} on contrast safety",
    "Free full text https://www.ncbi.nlm.nih.gov/pmc/articles/PMC{n}/",
    "AJR https://www.ajronline.org/doi/10.2214/AJR.25.{n}",
    "JACR white paper https://www.jacr.org/article/S1546-1440(25){m:05d}-1/fulltext",
    "Must read 👇 https://t.co/{n}",  # the expanded link carries the citation
)
CHATTER = (
    "Long call tonight, 3 strokes and a 10.5/10 headache #radres https://t.co/{n}",
    "Protocol change: CT head dose down 10.2% — version 10.15 of the workstation https://hospital.example/{n}",
    "Reading room playlist suggestions? #FOAMrad",
    "BP 120/80, CTA negative, on to the next one. Ticket {n} still open",
    "Case of the day https://radiopaedia.org/cases/{n} #radiology",
    "Match day! So proud of our residents 🎉 https://www.rsna.org/annual-meeting",
)


def make_posts(db: Database, count: int, citing_share: float = 0.02, seed: int = 2) -> None:
    """Insert `count` posts directly (setup, not measured)."""
    rng = random.Random(seed)
    t0 = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
    values = Values_for(db)
    cols = ", ".join(POST_COLUMNS)
    marks = ", ".join(["?" if db.dialect == "sqlite" else "%s"] * len(POST_COLUMNS))
    sql = f"INSERT INTO posts ({cols}) VALUES ({marks})"
    platforms = ("x", "reddit", "mastodon", "bluesky")
    now = dt.datetime.now(dt.UTC)
    for start in range(0, count, 100_000):
        records = []
        for i in range(start, min(count, start + 100_000)):
            links: list[str] = []
            if rng.random() < citing_share:
                n = rng.randint(1000, 99999)
                template = rng.choice(CITING)
                text_ = template.format(n=n if "PMID" not in template else 30000000 + n, m=n % 100000)
                if "t.co" in template:
                    links = [f"https://pubs.rsna.org/doi/10.1148/ryai.{n}"]
            else:
                text_ = rng.choice(CHATTER).format(n=rng.randint(10**6, 10**8))
                if "t.co" in text_:
                    links = ["https://www.youtube.com/watch?v=abc"]
            records.append(PostRecord(platform=platforms[i % 4], external_id=str(i), text=text_,
                                      created_at=t0 + dt.timedelta(seconds=i), author_external_id=f"a{i % 50000}",
                                      links=links))
        rows = post_rows(records, now, values)
        with db.engine.begin() as conn:
            conn.exec_driver_sql(sql, rows)


def Values_for(db: Database) -> Values:
    with db.engine.connect() as conn:
        return Values(conn)


def bench_extraction(db: Database, limit: int) -> float:
    with db.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT text, links FROM posts LIMIT {limit}")).all()
    start = time.perf_counter()
    found = 0
    for body, links in rows:
        if might_cite(body) or (links and links != "[]" and might_cite(str(links))):
            found += bool(extract_citations(body, [links] if isinstance(links, str) else links))
    return len(rows) / (time.perf_counter() - start)


def bench_linking(db: Database, posts: int) -> tuple[float, float, dict]:
    make_posts(db, posts)
    start, cpu = time.perf_counter(), time.process_time()
    result = link_all(db)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    with db.engine.connect() as conn:
        mentions = conn.execute(select(func.count()).select_from(Mention)).scalar()
        stored = conn.execute(select(func.count()).select_from(Post)).scalar()
    assert result.posts == stored == posts and mentions == result.mentions
    return posts / elapsed, posts / cpu, {"citing posts": result.posts_citing, "mentions": result.mentions,
                                          "stub articles": result.stubs, "seconds": round(elapsed, 2)}


def run(url: str, items: int, posts: int, label: str) -> None:
    db = open_database(url)
    try:
        feeds_rate, feeds_cpu = bench_feeds(db, items)
        print(f"[{label}] feeds: parse + store {items:,} items: {feeds_rate:,.0f} items/s wall, "
              f"{feeds_cpu:,.0f} items/s of CPU time (target >= 2,000)")
        link_rate, link_cpu, info = bench_linking(db, posts)
        print(f"[{label}] linking: link_all over {posts:,} posts: {link_rate:,.0f} posts/s wall, "
              f"{link_cpu:,.0f} posts/s of CPU time (target >= 50,000) {info}")
        print(f"[{label}] extraction only (prefilter + extract, in memory): "
              f"{bench_extraction(db, min(posts, 200_000)):,.0f} posts/s")
    finally:
        db.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000, help="feed items to parse and store")
    parser.add_argument("--posts", type=int, default=1_000_000, help="posts to link")
    parser.add_argument("--postgres", metavar="URL", help="also run against this PostgreSQL database (emptied first)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.items, args.posts, "sqlite")
    if args.postgres:
        db = open_database(args.postgres)
        with db.engine.begin() as conn:
            conn.execute(text("TRUNCATE mentions, articles, posts RESTART IDENTITY CASCADE"))
        db.dispose()
        run(args.postgres, args.items, args.posts, "postgresql")


if __name__ == "__main__":
    main()
