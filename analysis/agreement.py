"""Agreement between the two labellers, and the adjudicated gold labels.

``python -m radpulse.analysis.agreement`` prints Cohen's kappa per task (sentiment,
subspecialty, each theme as a binary label and their mean) and the number of disagreements;
``--disagreements`` lists those without an adjudication; ``--write-gold`` writes ``gold.jsonl``
from the two raw label files and ``adjudication.jsonl``.

Gold label of a post: where the labellers agree, their label; where they disagree, the
adjudicator's decision (one record per post and task in ``adjudication.jsonl``:
``{"id", "task", "labeller1", "labeller2", "decision", "reason"}``, task being ``sentiment``,
``subspecialty`` or ``theme:<name>`` with decision true/false). Both raw files stay untouched.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

from radpulse.analysis.corpus import CORPUS_DIR, read_jsonl, read_labels, read_posts, write_jsonl
from radpulse.analysis.lexicon import THEMES

LABELLERS = ("labeller1", "labeller2")


def kappas(first: dict[str, dict], second: dict[str, dict]) -> dict:
    """Cohen's kappa per task over the posts both labelled (themes: each as binary, and the mean)."""
    ids = sorted(set(first) & set(second))
    out: dict = {"n": len(ids)}
    for task in ("sentiment", "subspecialty"):
        a, b = [first[i][task] for i in ids], [second[i][task] for i in ids]
        out[task] = {"kappa": round(float(cohen_kappa_score(a, b)), 3),
                     "agreement": round(sum(x == y for x, y in zip(a, b)) / max(1, len(ids)), 3)}
    theme_k = {}
    for theme in THEMES:
        a = [theme in first[i]["themes"] for i in ids]
        b = [theme in second[i]["themes"] for i in ids]
        theme_k[theme] = round(float(cohen_kappa_score(a, b)), 3)
    out["themes"] = theme_k
    out["themes_mean_kappa"] = round(sum(theme_k.values()) / len(theme_k), 3)
    out["themes_exact_agreement"] = round(
        sum(set(first[i]["themes"]) == set(second[i]["themes"]) for i in ids) / max(1, len(ids)), 3)
    return out


def disagreements(first: dict[str, dict], second: dict[str, dict]) -> list[dict]:
    """One record per post and task where the labellers differ (themes: per theme)."""
    out = []
    for i in sorted(set(first) & set(second)):
        a, b = first[i], second[i]
        for task in ("sentiment", "subspecialty"):
            if a[task] != b[task]:
                out.append({"id": i, "task": task, "labeller1": a[task], "labeller2": b[task]})
        for theme in THEMES:
            x, y = theme in a["themes"], theme in b["themes"]
            if x != y:
                out.append({"id": i, "task": f"theme:{theme}", "labeller1": x, "labeller2": y})
    return out


def read_adjudications(corpus_dir: Path = CORPUS_DIR) -> dict[tuple[str, str], dict]:
    """(id, task) → adjudication record (empty when the file does not exist yet)."""
    path = corpus_dir / "adjudication.jsonl"
    if not path.exists():
        return {}
    return {(r["id"], r["task"]): r for r in read_jsonl(path)}


def build_gold(first: dict[str, dict], second: dict[str, dict],
               adjudications: dict[tuple[str, str], dict]) -> list[dict]:
    """Gold records for every post both labelled; raises if a disagreement is not adjudicated."""
    missing = [d for d in disagreements(first, second) if (d["id"], d["task"]) not in adjudications]
    if missing:
        raise ValueError(f"{len(missing)} disagreements are not adjudicated yet (first: {missing[0]});"
                         " add them to adjudication.jsonl")
    gold = []
    for i in sorted(set(first) & set(second)):
        a, b = first[i], second[i]
        rec: dict = {"id": i}
        for task in ("sentiment", "subspecialty"):
            rec[task] = a[task] if a[task] == b[task] else adjudications[(i, task)]["decision"]
        themes = []
        for theme in THEMES:
            x, y = theme in a["themes"], theme in b["themes"]
            keep = x if x == y else bool(adjudications[(i, f"theme:{theme}")]["decision"])
            if keep:
                themes.append(theme)
        rec["themes"] = themes
        rec["adjudicated"] = sorted(t for (j, t) in adjudications if j == i)
        gold.append(rec)
    return gold


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point; returns the kappa report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--disagreements", action="store_true", help="list unadjudicated disagreements")
    parser.add_argument("--write-gold", action="store_true", help="write gold.jsonl")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    first, second = (read_labels(name) for name in LABELLERS)
    report = kappas(first, second)
    diffs = disagreements(first, second)
    adj = read_adjudications()
    report["disagreements"] = len(diffs)
    report["adjudicated"] = sum((d["id"], d["task"]) in adj for d in diffs)
    if args.disagreements:
        texts = {p.id: p.text for p in read_posts()}
        for d in diffs:
            if (d["id"], d["task"]) not in adj:
                print(json.dumps({**d, "text": texts.get(d["id"], "")}, ensure_ascii=False))
        return report
    if args.write_gold:
        write_jsonl(CORPUS_DIR / "gold.jsonl", build_gold(first, second, adj))
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
