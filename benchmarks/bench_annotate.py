"""Benchmark the full annotation: posts/s on one core beside plain VADER, and peak memory of
annotating a database of 1,000,000 posts.

    .venv/bin/python benchmarks/bench_annotate.py                 # both parts
    .venv/bin/python benchmarks/bench_annotate.py --db-posts 0    # throughput only
    .venv/bin/python benchmarks/bench_annotate.py --posts 5000 --db-posts 20000   # quick

Throughput: the same synthetic posts (the corpus's radiology posts, analysis/data/corpus, recombined with
URLs, mentions, hashtags, emoji and author profiles) go through plain VADER alone and through
the full annotation (normalise, language, sentiment, topics, author type, flags), in one run.
Memory: a fresh SQLite database is filled with --db-posts posts, then a child process runs the
same code as `radpulse analyze` on it; its peak resident memory (ru_maxrss) is reported.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core

import argparse
import datetime as dt
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXTRAS = [" https://t.co/x{n}", " #RadRes", " #FOAMrad #NeuroRad", " 🧠", " 😩", " @colleague{n}",
          " #IRad", " #WomenInRadiology", " via @RSNA", " 👏👏", ""]


def synthetic_posts(n: int, seed: int = 0) -> list[tuple[str, tuple[str, str, str]]]:
    """`n` (text, (handle, name, bio)) pairs built from the labelled corpus (issue 15)."""
    from radpulse.analysis.authors import read_authors
    from radpulse.analysis.corpus import read_posts

    rng = random.Random(seed)
    texts = [p.text for p in read_posts()]
    profiles = read_authors("authors_train.tsv")[0] + read_authors("authors_test.tsv")[0]
    # about ten posts per account, as in collected radiology conversation
    copies = max(1, n // 10 // len(profiles))
    authors = [(f"{p.handle}{i}", p.display_name, p.bio) for i in range(copies) for p in profiles]
    out = []
    for i in range(n):
        text = rng.choice(texts)
        if rng.random() < 0.2:
            text += " " + rng.choice(texts)[:80]
        text += rng.choice(EXTRAS).format(n=i % 997) + rng.choice(EXTRAS).format(n=i % 991)
        out.append((text, rng.choice(authors)))
    return out


def bench_throughput(n: int) -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from radpulse.analysis.pipeline import Annotator

    posts = synthetic_posts(n)
    texts = [t for t, _ in posts]
    vader = SentimentIntensityAnalyzer()
    annotator = Annotator()
    annotator.annotate(texts[:200])  # warm caches (hashtag splits, model build) as in a real run

    def vader_only() -> None:
        for t in texts:
            vader.polarity_scores(t)

    def full() -> None:
        for i in range(0, n, 1000):
            batch = posts[i : i + 1000]
            annotator.annotate([t for t, _ in batch])
            annotator.author_types([profile for _, profile in batch])

    previous = _previous_pipeline(annotator)
    previous(posts[:200])

    def lexicon() -> None:
        for i in range(0, n, 1000):
            previous(posts[i : i + 1000])

    print(f"posts: {n:,} (mean {sum(map(len, texts)) / n:.0f} characters); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'':31}{'per CPU-second':>15}{'per wall-second':>17}")
    for name, work in (("plain VADER alone", vader_only), ("full annotation (one core)", full),
                       ("previous lexicon models", lexicon)):
        cpu, wall = _timed(work)
        print(f"{name:<31}{n / cpu:>15,.0f}{n / wall:>17,.0f}  posts/s")
    print("full annotation = normalise, language, trained sentiment/subspecialty/themes "
          "(word+char n-grams, lexicon features), author type, flags. "
          "Per CPU-second is what one dedicated core does; wall time counts other load too.")


def _previous_pipeline(annotator):
    """The annotation as it was before the trained models (lexicon VADER + lexicon topics)."""
    from radpulse.analysis.sentiment import RadiologySentiment
    from radpulse.analysis.text import normalise
    from radpulse.analysis.topics import default_topic_classifier

    sentiment, topics = RadiologySentiment().fit(), default_topic_classifier()

    def run(batch) -> None:
        docs = [normalise(t) for t, _ in batch]
        topics.predict_topics(docs)
        for doc in docs:
            sentiment.predict_one(doc)
            annotator.flags.explain(doc, False)
        annotator.author_types([profile for _, profile in batch])

    return run


def _timed(work) -> tuple[float, float]:
    """CPU seconds and wall seconds of `work()` (single-threaded: CPU time = one core's time)."""
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    return time.process_time() - cpu, time.perf_counter() - wall


def fill_database(url: str, n: int) -> None:
    from sqlalchemy import insert

    from radpulse.db.engine import open_database
    from radpulse.db.models import Post

    db = open_database(url)
    posts = synthetic_posts(min(n, 50_000), seed=1)
    now = dt.datetime.now(dt.UTC)
    chunk = 20_000
    with db.engine.begin() as conn:
        for start in range(0, n, chunk):
            rows = [
                {"platform": "x", "external_id": str(i), "author_external_id": str(i % 5000),
                 "text": posts[i % len(posts)][0], "created_at": now, "first_seen_at": now,
                 "collected_at": now, "text_changed_at": now, "links": [], "hashtags": [],
                 "mentions": []}
                for i in range(start, min(n, start + chunk))
            ]
            conn.execute(insert(Post), rows)
    db.dispose()


def child_analyze(url: str) -> None:
    """Run in a child process: annotate everything due, print the count and the time."""
    from radpulse.analysis.pipeline import Annotator
    from radpulse.analysis.store import annotate_posts
    from radpulse.db.engine import open_database

    db = open_database(url)
    start = time.process_time()
    result = annotate_posts(db, Annotator(), batch_size=1000)
    elapsed = time.process_time() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{result.annotated} {elapsed:.1f} {peak:.0f}")


def bench_database(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        start = time.perf_counter()
        fill_database(url, n)
        print(f"database: {n:,} posts written in {time.perf_counter() - start:.0f} s")
        proc = subprocess.run([sys.executable, __file__, "--child", url], check=True,
                              capture_output=True, text=True)
        done, elapsed, peak = proc.stdout.split()
        print(f"analyze from the database      {int(done) / float(elapsed):>9,.0f} posts per CPU-second "
              f"({int(done):,} posts, {float(elapsed):.0f} CPU s incl. SQLite reads and writes)")
        print(f"peak memory of analyze         {float(peak):>9,.0f} MB (ru_maxrss of the process)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000, help="posts for the throughput part")
    parser.add_argument("--db-posts", type=int, default=1_000_000, help="posts in the database part (0 skips)")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_analyze(args.child)
        return
    bench_throughput(args.posts)
    if args.db_posts:
        bench_database(args.db_posts)


if __name__ == "__main__":
    main()
