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
import os
import re
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


# -- labelled social-media sentiment that is not in the repository ------------------------------
#: Folder of the general corpora this repository cannot ship (see data/general/README.md):
#: ``tweeteval/`` (TweetEval's datasets/sentiment), ``semeval2017/`` (SemEval-2017 Task 4
#: subtask A gold files ``twitter-20*-A.txt``, the tweets TweetEval's train split is made of)
#: and ``goemotions/`` (GoEmotions' data folder). RADPULSE_GENERAL_DATA, else ../shared/general.
GENERAL_DATA = Path(os.environ.get("RADPULSE_GENERAL_DATA")
                    or Path(__file__).resolve().parents[1].parent / "shared" / "general")
TWEETEVAL_LABELS = ("negative", "neutral", "positive")
_MENTION = re.compile(r"@\w+")
_LINK = re.compile(r"https?://\S+")


@dataclass
class LabelledSet:
    """Texts with sentiment labels from one source, and the files they were read from."""

    name: str
    texts: list[str]
    labels: list[str]
    files: list[Path]


def dedupe_key(text: str) -> str:
    """A tweet's text with handles, links, case and spacing folded (for duplicates and overlap)."""
    return " ".join(_LINK.sub(" ", _MENTION.sub("@user", text)).lower().split())


def read_tweeteval(folder: Path, split: str, limit: int | None = None) -> LabelledSet:
    """TweetEval sentiment ``{split}_text.txt`` and ``{split}_labels.txt`` (0/1/2)."""
    files = [folder / f"{split}_text.txt", folder / f"{split}_labels.txt"]
    texts = files[0].read_text(encoding="utf-8").splitlines()
    labels = [TWEETEVAL_LABELS[int(x)] for x in files[1].read_text(encoding="utf-8").split()]
    if len(texts) != len(labels):
        raise ValueError(f"{folder}: {len(texts)} texts but {len(labels)} labels in {split}")
    return LabelledSet(f"tweeteval_{split}", texts[:limit], labels[:limit], files)


def read_semeval(folder: Path, exclude: frozenset[str] = frozenset()) -> LabelledSet:
    """SemEval-2013..2016 Twitter subtask A gold files (``id<TAB>label<TAB>text``), each text
    once (its first label; texts labelled differently in two files are dropped), without the
    texts whose `dedupe_key` is in `exclude` (TweetEval's validation split)."""
    files = sorted(folder.glob("twitter-20*-A.txt"))
    seen: dict[str, tuple[str, str]] = {}
    conflicts: set[str] = set()
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) < 3 or parts[1] not in TWEETEVAL_LABELS:
                continue
            text = "\t".join(parts[2:]).strip()
            key = dedupe_key(text)
            if key in exclude:
                continue
            if key in seen and seen[key][1] != parts[1]:
                conflicts.add(key)
            seen.setdefault(key, (text, parts[1]))
    rows = [v for k, v in seen.items() if k not in conflicts]
    return LabelledSet("semeval2017_train", [t for t, _ in rows], [y for _, y in rows], files)


#: GoEmotions' own grouping of its emotions (goemotions/data/sentiment_dict.json); "ambiguous"
#: emotions and mixed positive/negative labels are left out
GOEMOTIONS_POSITIVE = frozenset(["amusement", "excitement", "joy", "love", "desire", "optimism",
                                 "caring", "pride", "admiration", "gratitude", "relief", "approval"])
GOEMOTIONS_NEGATIVE = frozenset(["fear", "nervousness", "remorse", "embarrassment", "disappointment",
                                 "sadness", "grief", "disgust", "anger", "annoyance", "disapproval"])


def read_goemotions(folder: Path, split: str) -> LabelledSet:
    """GoEmotions ``{split}.tsv`` (text, emotion ids, comment id) as positive/negative/neutral."""
    files = [folder / f"{split}.tsv", folder / "emotions.txt"]
    names = files[1].read_text(encoding="utf-8").split()
    texts, labels = [], []
    for line in files[0].read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        emotions = {names[int(i)] for i in parts[1].split(",")}
        if emotions == {"neutral"}:
            label = "neutral"
        elif emotions <= GOEMOTIONS_POSITIVE:
            label = "positive"
        elif emotions <= GOEMOTIONS_NEGATIVE:
            label = "negative"
        else:
            continue
        texts.append(parts[0])
        labels.append(label)
    return LabelledSet(f"goemotions_{split}", texts, labels, files)


def social_sets(folder: Path = GENERAL_DATA) -> dict[str, LabelledSet]:
    """The social-media sentiment sets found in `folder`, by domain: ``tweets`` and ``reddit``
    for training, ``tweets_val`` and ``reddit_val`` for tuning. Test splits are never read."""
    out: dict[str, LabelledSet] = {}
    te, se, ge = folder / "tweeteval", folder / "semeval2017", folder / "goemotions"
    val = read_tweeteval(te, "val") if (te / "val_text.txt").exists() else None
    if val is not None:
        out["tweets_val"] = val
    if (te / "train_text.txt").exists():
        out["tweets"] = read_tweeteval(te, "train")
    elif se.is_dir() and any(se.glob("twitter-20*-A.txt")):
        exclude = frozenset(dedupe_key(t) for t in val.texts) if val is not None else frozenset()
        out["tweets"] = read_semeval(se, exclude)
    if (ge / "train.tsv").exists():
        out["reddit"] = read_goemotions(ge, "train")
        if (ge / "dev.tsv").exists():
            out["reddit_val"] = read_goemotions(ge, "dev")
    return out
