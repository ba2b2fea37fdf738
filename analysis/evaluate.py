"""Evaluate the analysis models and print the figures (`python -m radpulse.analysis.evaluate`).

On the **held-out test split** of the labelled corpus (posts of held-out authors and of the
latest months, adjudicated gold labels; see `radpulse.analysis.corpus`), for each task:
macro-F1 with a bootstrap 95% interval (posts resampled with replacement), per-class
precision / recall / F1 and the confusion matrix, for the trained models beside plain VADER and
beside the previous lexicon model (`RadiologySentiment`, `TopicClassifier`). The same on the
part of the test split written by authors never seen in training (``unseen_authors``).

External check on general tweets the models never trained on: VADER's 4,200 human-rated tweets
(not independent of VADER: its authors built VADER with them, and a VADER score is a feature)
and, when ``--tweeteval DIR`` points at TweetEval's ``datasets/sentiment`` folder, its test split.
Author types are evaluated as before on their held-out profiles.

The split's hash (sha256 of the sorted ids of each split) is printed with the figures.
``--write`` stores the test figures in ``data/models/evaluation.json`` (the committed figures
the CI test compares against); ``--json`` prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.preprocessing import MultiLabelBinarizer

from radpulse.analysis.authors import AuthorTypeClassifier, read_authors
from radpulse.analysis.corpus import (
    GENERAL_DATA, read_labels, read_posts, read_rated, read_tweeteval, split_hashes, split_posts,
)
from radpulse.analysis.features import as_docs
from radpulse.analysis.lexicon import THEMES
from radpulse.analysis.models import MODELS_DIR, SENTIMENT_LABELS, SUBSPECIALTY_LABELS, load_models
from radpulse.analysis.sentiment import PlainVader, RadiologySentiment
from radpulse.analysis.topics import default_topic_classifier

DEFAULT_TWEETS = (Path(os.environ.get("RADPULSE_FIXTURES")
                       or Path(__file__).resolve().parents[1].parent / "shared" / "fixtures")
                  / "sentiment" / "tweets_GroundTruth.txt")
FIGURES_FILE = MODELS_DIR / "evaluation.json"
#: the general-tweet domain of the sentiment model (see `radpulse.analysis.train`)
TWEETS = "tweets"
DEFAULT_TWEETEVAL = GENERAL_DATA / "tweeteval"


def bootstrap_ci(y_true, y_pred, n_boot: int, seed: int = 0, labels=None) -> list[float]:
    """95% percentile interval of macro-F1 over items resampled with replacement."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if n_boot <= 0 or len(y_true) < 2:
        return []
    rng = np.random.default_rng(seed)
    stats = [f1_score(y_true[idx], y_pred[idx], average="macro", labels=labels, zero_division=0)
             for idx in (rng.integers(0, len(y_true), len(y_true)) for _ in range(n_boot))]
    return [round(float(np.percentile(stats, 2.5)), 3), round(float(np.percentile(stats, 97.5)), 3)]


def single_label_report(y_true, y_pred, labels, n_boot: int) -> dict:
    """Macro-F1 (+ interval), per-class P/R/F1 and the confusion matrix (rows = gold)."""
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=list(labels), zero_division=0)
    return {
        "n": len(y_true),
        "macro_f1": round(float(f1_score(y_true, y_pred, labels=list(labels), average="macro",
                                         zero_division=0)), 3),
        "macro_f1_ci95": bootstrap_ci(y_true, y_pred, n_boot, labels=list(labels)),
        "per_class": {c: {"precision": round(float(p[i]), 3), "recall": round(float(r[i]), 3),
                          "f1": round(float(f[i]), 3), "support": int(s[i])}
                      for i, c in enumerate(labels)},
        "labels": list(labels),
        "confusion": confusion_matrix(y_true, y_pred, labels=list(labels)).tolist(),
    }


def multi_label_report(y_true, y_pred, n_boot: int) -> dict:
    """Macro-F1 over themes (+ interval), per-theme P/R/F1 and TP/FP/FN/TN counts."""
    mlb = MultiLabelBinarizer(classes=list(THEMES)).fit([[]])
    Yt, Yp = mlb.transform(y_true), mlb.transform(y_pred)
    p, r, f, s = precision_recall_fscore_support(Yt, Yp, zero_division=0)
    counts = {t: {"tp": int(((Yt[:, j] == 1) & (Yp[:, j] == 1)).sum()),
                  "fp": int(((Yt[:, j] == 0) & (Yp[:, j] == 1)).sum()),
                  "fn": int(((Yt[:, j] == 1) & (Yp[:, j] == 0)).sum()),
                  "tn": int(((Yt[:, j] == 0) & (Yp[:, j] == 0)).sum())} for j, t in enumerate(THEMES)}
    return {
        "n": len(y_true),
        "macro_f1": round(float(f1_score(Yt, Yp, average="macro", zero_division=0)), 3),
        "macro_f1_ci95": bootstrap_ci(Yt, Yp, n_boot),
        "per_class": {t: {"precision": round(float(p[j]), 3), "recall": round(float(r[j]), 3),
                          "f1": round(float(f[j]), 3), "support": int(s[j])}
                      for j, t in enumerate(THEMES)},
        "confusion": counts,
    }


def evaluate_corpus(split: str = "test", n_boot: int = 1000, limit: int | None = None) -> dict:
    """Trained, plain VADER and previous lexicon models on one split of the corpus."""
    posts = read_posts()
    splits = split_posts(posts)
    gold = read_labels("gold")
    seen = {p.author for p in splits["train"] + splits["validation"]}
    rows = [p for p in splits[split] if p.id in gold][:limit]
    out = {"split": split, "split_sha256": split_hashes(splits),
           "split_sizes": {k: len(v) for k, v in splits.items()}}
    models = load_models()
    for part, subset in (("all", rows), ("unseen_authors", [p for p in rows if p.author not in seen])):
        texts = [p.text for p in subset]
        S = [gold[p.id]["sentiment"] for p in subset]
        B = [gold[p.id]["subspecialty"] for p in subset]
        T = [gold[p.id]["themes"] for p in subset]
        pred = models.predict_all(texts)
        old = default_topic_classifier().predict_topics(texts)
        out[part] = {
            "sentiment": {
                "trained": single_label_report(S, pred["sentiment"], SENTIMENT_LABELS, n_boot),
                "vader": single_label_report(S, list(PlainVader().fit().predict(texts)),
                                             SENTIMENT_LABELS, n_boot),
                "lexicon": single_label_report(S, list(RadiologySentiment().fit().predict(texts)),
                                               SENTIMENT_LABELS, n_boot)},
            "subspecialty": {
                "trained": single_label_report(B, pred["subspecialty"], SUBSPECIALTY_LABELS, n_boot),
                "lexicon": single_label_report(B, [o.subspecialty for o in old],
                                               SUBSPECIALTY_LABELS, n_boot)},
            "themes": {"trained": multi_label_report(T, pred["themes"], n_boot),
                       "lexicon": multi_label_report(T, [o.themes for o in old], n_boot)},
        }
    return out


def evaluate_tweets(path: Path, n_boot: int, limit: int | None = None, name: str = "") -> dict:
    """Sentiment on a rated tweet file (or TweetEval folder): trained (as for radiology posts,
    and in the tweet domain when the models learned one) vs plain VADER vs lexicon."""
    if path.suffix != "":
        texts, y = read_rated(path, limit)
    else:
        s = read_tweeteval(path, "test", limit)
        texts, y = s.texts, s.labels
    models = load_models()
    docs = as_docs(texts)
    out = {
        "source": name or str(path),
        "trained": single_label_report(y, models.predict_all(docs)["sentiment"], SENTIMENT_LABELS, n_boot),
        "vader": single_label_report(y, list(PlainVader().fit().predict(texts)), SENTIMENT_LABELS, n_boot),
        "lexicon": single_label_report(y, list(RadiologySentiment().fit().predict(texts)),
                                       SENTIMENT_LABELS, n_boot),
    }
    if TWEETS in models.domains_:
        out["trained_tweet_domain"] = single_label_report(
            y, models.predict_all(docs, domain=TWEETS)["sentiment"], SENTIMENT_LABELS, n_boot)
    return out


def evaluate_authors(limit: int | None = None) -> dict:
    """Rules only, model only and both on the held-out author profiles."""
    Xtr, ytr = read_authors("authors_train.tsv")
    X, y = read_authors("authors_test.tsv")
    X, y = (X[:limit], y[:limit]) if limit else (X, y)
    out = {}
    for name, kwargs in (("rules", {"use_model": False}), ("model", {"use_rules": False}), ("both", {})):
        pred = AuthorTypeClassifier(**kwargs).fit(Xtr, ytr).predict(X)
        out[name] = {"n": len(y), "macro_f1": round(float(f1_score(y, pred, average="macro")), 3),
                     "accuracy": round(float(np.mean(np.asarray(pred) == np.asarray(y))), 3)}
    return out


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point; returns the report."""
    from radpulse.analysis.evaluate_print import print_report

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=Path, default=Path(os.environ.get("RADPULSE_TWEETS", DEFAULT_TWEETS)),
                        help="VADER's tweets_GroundTruth.txt (default: ../shared/fixtures/sentiment/)")
    parser.add_argument("--tweeteval", type=Path,
                        default=DEFAULT_TWEETEVAL if (DEFAULT_TWEETEVAL / "test_text.txt").exists() else None,
                        help="TweetEval datasets/sentiment folder (its test split is read; default: "
                             "tweeteval/ in RADPULSE_GENERAL_DATA or ../shared/general when there)")
    parser.add_argument("--split", default="test", choices=["test", "validation"],
                        help="corpus split to evaluate (default: the held-out test split)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N items of each set")
    parser.add_argument("--bootstrap", type=int, default=1000, help="resamples for the 95%% intervals")
    parser.add_argument("--write", action="store_true", help=f"store the figures in {FIGURES_FILE.name}")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    report = {"corpus": evaluate_corpus(args.split, args.bootstrap, args.limit), "external": {}}
    if args.tweets is not None and args.tweets.exists():
        report["external"]["vader_tweets"] = evaluate_tweets(
            args.tweets, args.bootstrap, args.limit, "VADER tweets (not independent of VADER)")
    if args.tweeteval is not None:
        report["external"]["tweeteval_test"] = evaluate_tweets(
            args.tweeteval, args.bootstrap, args.limit, "TweetEval sentiment test")
    report["authors"] = evaluate_authors(args.limit)
    if args.write:
        FIGURES_FILE.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return report


if __name__ == "__main__":
    main()
