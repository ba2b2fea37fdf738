"""The labelled radiology corpus (issue 15): posts, label files, gold labels and the split.

Files live in ``analysis/data/corpus/`` of the repository (see its README): the posts
(``posts_*.jsonl``), each labeller's raw labels (``labels_<labeller>.jsonl``, never edited),
the adjudications of their disagreements (``adjudication.jsonl``) and the resulting
``gold.jsonl``. These are repository data for training and evaluation, not package data.

The split is by author **and** by time, never at random: the test split is every post of a
held-out set of authors plus every post of the latest months; validation likewise from what is
left; train is the rest. Authors are chosen by a hash of their id, so the split depends only on
the corpus, and `split_hashes` fingerprints it (sha256 of the sorted ids of each split).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent / "data" / "corpus"
TASKS = ("sentiment", "subspecialty", "themes")

#: fraction of authors held out (by hash of the author id) and the first month of each split
TEST_AUTHOR_SHARE = 0.15
VALIDATION_AUTHOR_SHARE = 0.15
TEST_FROM = "2026-10"        # October and November 2026
VALIDATION_FROM = "2026-08"  # August and September 2026


@dataclass(frozen=True, slots=True)
class CorpusPost:
    """One post of the corpus (title joined to the text for Reddit submissions)."""

    id: str
    platform: str
    author: str
    created_at: str
    text: str


def read_jsonl(path: Path) -> list[dict]:
    """Every JSON object of a JSON Lines file."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    """Write rows as JSON Lines (UTF-8, keys in a stable order)."""
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_posts(corpus_dir: Path = CORPUS_DIR) -> list[CorpusPost]:
    """Every post of every ``posts_*.jsonl`` file, sorted by id."""
    posts = []
    for path in sorted(corpus_dir.glob("posts_*.jsonl")):
        for rec in read_jsonl(path):
            text = "\n".join(t for t in (rec.get("title"), rec.get("text")) if t)
            posts.append(CorpusPost(rec["id"], rec["platform"], rec["author"], rec["created_at"], text))
    return sorted(posts, key=lambda p: p.id)


def read_labels(name: str, corpus_dir: Path = CORPUS_DIR) -> dict[str, dict]:
    """A label file by name: ``labeller1``, ``labeller2`` or ``gold``; id → record."""
    path = corpus_dir / (f"{name}.jsonl" if name == "gold" else f"labels_{name}.jsonl")
    return {rec["id"]: rec for rec in read_jsonl(path)}


def _author_rank(author: str) -> float:
    """A stable pseudo-random number in [0, 1) for an author id."""
    return int(hashlib.sha256(author.encode()).hexdigest()[:12], 16) / 16**12


def split_of(post: CorpusPost) -> str:
    """'test', 'validation' or 'train' for a post (by author hash and by month)."""
    rank, month = _author_rank(post.author), post.created_at[:7]
    if rank < TEST_AUTHOR_SHARE or month >= TEST_FROM:
        return "test"
    if rank < TEST_AUTHOR_SHARE + VALIDATION_AUTHOR_SHARE or month >= VALIDATION_FROM:
        return "validation"
    return "train"


def split_posts(posts: list[CorpusPost]) -> dict[str, list[CorpusPost]]:
    """Posts grouped by split: train, validation, test."""
    out: dict[str, list[CorpusPost]] = {"train": [], "validation": [], "test": []}
    for post in posts:
        out[split_of(post)].append(post)
    return out


def split_hashes(splits: dict[str, list[CorpusPost]]) -> dict[str, str]:
    """sha256 of the sorted ids of each split (newline-joined), the split's fingerprint."""
    return {name: hashlib.sha256("\n".join(sorted(p.id for p in posts)).encode()).hexdigest()
            for name, posts in splits.items()}


#: human-rated general sentiment: |mean rating| <= NEUTRAL_BAND on the -4..+4 scale is neutral
NEUTRAL_BAND = 0.5
GENERAL_DIR = Path(__file__).resolve().parent / "data" / "general"
GENERAL_FILES = ("nytEditorialSnippets", "movieReviewSnippets", "amazonReviewSnippets")


def read_rated(path: Path, limit: int | None = None) -> tuple[list[str], list[str]]:
    """Texts and labels of a VADER-style ``ID<TAB>mean<TAB>text`` file (plain or .gz)."""
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    texts, labels = [], []
    with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as fh:
        for line in fh:
            parts = line.rstrip("\r\n").split("\t", 2)
            if len(parts) < 3:
                continue
            mean = float(parts[1])
            labels.append("positive" if mean > NEUTRAL_BAND else
                          "negative" if mean < -NEUTRAL_BAND else "neutral")
            texts.append(parts[2])
            if limit and len(texts) >= limit:
                break
    return texts, labels


def read_general() -> tuple[list[str], list[str]]:
    """The shipped general corpora (NYT, movie and Amazon snippets), in file order."""
    texts, labels = [], []
    for name in GENERAL_FILES:
        t, y = read_rated(GENERAL_DIR / f"{name}_GroundTruth.txt.gz")
        texts += t
        labels += y
    return texts, labels
