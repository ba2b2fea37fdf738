"""Precision and recall of citation extraction on the labelled posts shipped with radpulse.

    python -m radpulse.literature.evaluate [--file labelled.jsonl] [--show-errors]

The labelled set (`labelled_mentions.jsonl`, one post a line: text, expanded links and the
expected `kind:value` citations) was written by the project: DOIs in every form, PubMed, PMC
and journal links, shortened and irrelevant links, and numbers that look like identifiers.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from radpulse.literature.links import extract_citations

LABELLED = Path(__file__).with_name("labelled_mentions.jsonl")


@dataclass
class Scores:
    """Micro-averaged counts over all posts, overall and per kind."""

    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    posts: int = 0
    errors: list[dict] = field(default_factory=list)

    @staticmethod
    def _ratio(num: int, den: int) -> float:
        return num / den if den else 1.0

    def precision(self, kind: str | None = None) -> float:
        tp = self.tp[kind] if kind else sum(self.tp.values())
        fp = self.fp[kind] if kind else sum(self.fp.values())
        return self._ratio(tp, tp + fp)

    def recall(self, kind: str | None = None) -> float:
        tp = self.tp[kind] if kind else sum(self.tp.values())
        fn = self.fn[kind] if kind else sum(self.fn.values())
        return self._ratio(tp, tp + fn)


def load_labelled(path: Path = LABELLED) -> list[dict]:
    """The labelled posts: dicts with text, links and expected ('kind:value' strings)."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def evaluate(posts: list[dict]) -> Scores:
    """Compare `extract_citations` with the labels of `posts`."""
    scores = Scores(posts=len(posts))
    for post in posts:
        got = {f"{c.kind}:{c.value}" for c in extract_citations(post["text"], post.get("links") or [])}
        want = set(post["expected"])
        for item in got & want:
            scores.tp[item.split(":", 1)[0]] += 1
        for item in got - want:
            scores.fp[item.split(":", 1)[0]] += 1
        for item in want - got:
            scores.fn[item.split(":", 1)[0]] += 1
        if got != want:
            scores.errors.append({"id": post.get("id"), "text": post["text"], "extra": sorted(got - want),
                                  "missed": sorted(want - got)})
    return scores


def report(scores: Scores) -> str:
    """A small table: precision and recall overall and per kind."""
    kinds = sorted(set(scores.tp) | set(scores.fp) | set(scores.fn))
    lines = [f"labelled posts: {scores.posts}", f"{'kind':<8}{'tp':>5}{'fp':>5}{'fn':>5}{'precision':>11}{'recall':>8}"]
    for kind in [*kinds, None]:
        name = kind or "all"
        tp = scores.tp[kind] if kind else sum(scores.tp.values())
        fp = scores.fp[kind] if kind else sum(scores.fp.values())
        fn = scores.fn[kind] if kind else sum(scores.fn.values())
        lines.append(f"{name:<8}{tp:>5}{fp:>5}{fn:>5}{scores.precision(kind):>11.3f}{scores.recall(kind):>8.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=LABELLED)
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args(argv)
    scores = evaluate(load_labelled(args.file))
    print(report(scores))
    if args.show_errors:
        for err in scores.errors:
            print(json.dumps(err, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
