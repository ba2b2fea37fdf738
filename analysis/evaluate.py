"""Evaluate the analysis models and print the figures (`python -m radpulse.analysis.evaluate`).

- Sentiment: accuracy and macro-F1 of plain VADER and the radiology-adapted scorer, side by
  side, on the human-rated general tweets (label = sign of the mean rating, neutral when
  |mean| <= NEUTRAL_BAND) and on the held-out split of the project's radiology set.
- Topics: per-label precision, recall and F1 on the held-out posts (data/topics_test.tsv),
  subspecialty macro-F1 (the 10 subspecialties plus `general`) and theme macro-F1.
- Author types: accuracy and macro-F1 of rules only, model only and both, on held-out profiles.

``--limit N`` evaluates the first N items of each set (the CI slice); ``--json`` prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.preprocessing import MultiLabelBinarizer

from radpulse.analysis.authors import AuthorTypeClassifier, read_authors
from radpulse.analysis.data_files import data_text
from radpulse.analysis.lexicon import GENERAL, SUBSPECIALTIES, THEMES
from radpulse.analysis.sentiment import PlainVader, RadiologySentiment
from radpulse.analysis.topics import default_topic_classifier, read_labelled

#: general tweets: |mean rating| <= 0.5 on the -4..+4 scale is neutral
NEUTRAL_BAND = 0.5
DEFAULT_TWEETS = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "sentiment" / "tweets_GroundTruth.txt"


def read_tweets(path: Path, limit: int | None = None) -> tuple[list[str], list[str]]:
    """Texts and labels from VADER's tweets_GroundTruth.txt (ID, mean, text; CRLF)."""
    texts, labels = [], []
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        for line in fh:
            parts = line.rstrip("\r\n").split("\t", 2)
            if len(parts) < 3:
                continue
            mean = float(parts[1])
            labels.append("positive" if mean > NEUTRAL_BAND else "negative" if mean < -NEUTRAL_BAND else "neutral")
            texts.append(parts[2])
            if limit and len(texts) >= limit:
                break
    return texts, labels


def read_sentiment_set(name: str, limit: int | None = None) -> tuple[list[str], list[str]]:
    """Texts and labels of a packaged radiology sentiment split (label<TAB>text)."""
    raw = data_text(name)
    rows = [line.split("\t", 1) for line in raw.splitlines()[1:] if line.strip()]
    rows = rows[:limit] if limit else rows
    return [r[1] for r in rows], [r[0] for r in rows]


def _scores(y, pred) -> dict:
    return {"n": len(y), "accuracy": round(accuracy_score(y, pred), 3),
            "macro_f1": round(f1_score(y, pred, average="macro", zero_division=0), 3)}


def evaluate_sentiment(tweets_path: Path | None, limit: int | None = None) -> dict:
    """Plain VADER vs adapted on the general tweets and the radiology held-out split."""
    plain, adapted = PlainVader().fit(), RadiologySentiment().fit()
    out = {}
    sets = {"radiology_test": read_sentiment_set("sentiment_radiology_test.tsv", limit),
            "radiology_tuning": read_sentiment_set("sentiment_radiology_train.tsv", limit)}
    if tweets_path is not None and tweets_path.exists():
        sets = {"tweets": read_tweets(tweets_path, limit), **sets}
    for name, (X, y) in sets.items():
        out[name] = {"vader": _scores(y, plain.predict(X)), "adapted": _scores(y, adapted.predict(X))}
    return out


def _per_label(y_true, y_pred, classes, n_boot: int = 0) -> tuple[dict, float, list[float]]:
    mlb = MultiLabelBinarizer(classes=list(classes)).fit([[]])
    Yt, Yp = mlb.transform(y_true), mlb.transform(y_pred)
    p, r, f, s = precision_recall_fscore_support(Yt, Yp, zero_division=0)
    rows = {c: {"precision": round(p[i], 3), "recall": round(r[i], 3), "f1": round(f[i], 3),
                "support": int(s[i])} for i, c in enumerate(classes)}
    macro = round(float(f1_score(Yt, Yp, average="macro", zero_division=0)), 3)
    return rows, macro, _bootstrap_ci(Yt, Yp, n_boot)


def _bootstrap_ci(Yt, Yp, n_boot: int, seed: int = 0) -> list[float]:
    """95% percentile interval of macro-F1 over posts resampled with replacement."""
    if n_boot <= 0 or len(Yt) < 2:
        return []
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(Yt), len(Yt))
        stats.append(f1_score(Yt[idx], Yp[idx], average="macro", zero_division=0))
    return [round(float(np.percentile(stats, 2.5)), 3), round(float(np.percentile(stats, 97.5)), 3)]


def evaluate_topics(limit: int | None = None, n_boot: int = 0) -> dict:
    """Per-label P/R/F1 and macro-F1 on the held-out topic set."""
    X, Y = read_labelled("topics_test.tsv")
    X, Y = (X[:limit], Y[:limit]) if limit else (X, Y)
    preds = default_topic_classifier().predict_topics(X)
    sub_true = [[l for l in y if l in SUBSPECIALTIES] or [GENERAL] for y in Y]
    theme_true = [[l for l in y if l in THEMES] for y in Y]
    sub_rows, sub_f1, sub_ci = _per_label(
        sub_true, [p.subspecialties for p in preds], SUBSPECIALTIES + (GENERAL,), n_boot)
    theme_rows, theme_f1, theme_ci = _per_label(theme_true, [p.themes for p in preds], THEMES, n_boot)
    return {"n": len(X), "subspecialty": sub_rows, "subspecialty_macro_f1": sub_f1,
            "subspecialty_macro_f1_ci95": sub_ci, "themes": theme_rows, "themes_macro_f1": theme_f1,
            "themes_macro_f1_ci95": theme_ci}


def evaluate_authors(limit: int | None = None) -> dict:
    """Rules only, model only and both on the held-out author profiles."""
    Xtr, ytr = read_authors("authors_train.tsv")
    X, y = read_authors("authors_test.tsv")
    X, y = (X[:limit], y[:limit]) if limit else (X, y)
    out = {}
    for name, kwargs in (("rules", {"use_model": False}), ("model", {"use_rules": False}), ("both", {})):
        pred = AuthorTypeClassifier(**kwargs).fit(Xtr, ytr).predict(X)
        out[name] = _scores(y, pred)
    return out


def _print(report: dict) -> None:
    print(f"SENTIMENT (plain VADER vs radiology-adapted; neutral band |mean| <= {NEUTRAL_BAND:.1f})")
    print("  (radiology_tuning is the split the lexicon was tuned on; radiology_test is held out)")
    print(f"  {'set':<16}{'n':>6}  {'VADER acc':>9} {'VADER F1':>9}  {'adapted acc':>11} {'adapted F1':>10}")
    for name, r in report["sentiment"].items():
        v, a = r["vader"], r["adapted"]
        print(f"  {name:<16}{v['n']:>6}  {v['accuracy']:>9.3f} {v['macro_f1']:>9.3f}  "
              f"{a['accuracy']:>11.3f} {a['macro_f1']:>10.3f}")
    t = report["topics"]
    for part, key in (("subspecialty", "subspecialty_macro_f1"), ("themes", "themes_macro_f1")):
        print(f"\nTOPICS {part.upper()} (held-out n={t['n']})")
        print(f"  {'label':<24}{'P':>7}{'R':>7}{'F1':>7}{'support':>9}")
        for label, r in t[part].items():
            print(f"  {label:<24}{r['precision']:>7.3f}{r['recall']:>7.3f}{r['f1']:>7.3f}{r['support']:>9}")
        ci = t[key + "_ci95"]
        print(f"  {part} macro-F1: {t[key]:.3f}" + (f"  (95% bootstrap interval {ci[0]:.3f}-{ci[1]:.3f})" if ci else ""))
    print("\nAUTHOR TYPES (held-out)")
    for name, r in report["authors"].items():
        print(f"  {name:<8} n={r['n']:<4} accuracy {r['accuracy']:.3f}  macro-F1 {r['macro_f1']:.3f}")


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point; returns the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=Path, default=Path(os.environ.get("RADPULSE_TWEETS", DEFAULT_TWEETS)),
                        help="tweets_GroundTruth.txt (default: ../shared/fixtures/sentiment/)")
    parser.add_argument("--limit", type=int, default=None, help="evaluate only the first N items of each set")
    parser.add_argument("--bootstrap", type=int, default=1000,
                        help="resamples for the 95%% interval of topic macro-F1 (0: none)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    report = {
        "sentiment": evaluate_sentiment(args.tweets, args.limit),
        "topics": evaluate_topics(args.limit, args.bootstrap),
        "authors": evaluate_authors(args.limit),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report)
    return report


if __name__ == "__main__":
    main()
