"""Sentiment of radiology posts: VADER adapted to the field.

Positive / neutral / negative plus VADER's compound score in [-1, 1]. The adaptation lives in
``data/sentiment_radiology.toml`` (editable without code):

- posts in the clinical register (they mention scans, reports, findings...) are scored with a
  second lexicon in which named findings and diseases carry no sentiment, and report language
  ("negative for PE", "no acute intracranial abnormality", "unremarkable") is removed first:
  negation of disease is not the author's negativity;
- workforce and practice words VADER lacks (burnout, understaffed, pay cut, backlog) are added;
- ironic praise of staffing, pay and workload ("love being short staffed again") is negative.

Plain VADER stays available as `PlainVader` so evaluations can print both side by side.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from radpulse.analysis.data_files import data_bytes, digest, load_toml
from radpulse.analysis.text import NormalisedText, normalise

LABELS = ("negative", "neutral", "positive")


@lru_cache(maxsize=1)
def _base_analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _copy_analyzer(extra: dict[str, float]):
    """A VADER analyzer sharing the packaged lexicon files but with `extra` valences applied."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    base = _base_analyzer()
    analyzer = SentimentIntensityAnalyzer.__new__(SentimentIntensityAnalyzer)
    analyzer.__dict__.update(base.__dict__)
    analyzer.lexicon = {**base.lexicon, **extra}
    return analyzer


def load_lexicon(path: str | None = None) -> dict[str, Any]:
    """Read the radiology sentiment lexicon (packaged file unless `path` is given)."""
    return load_toml("sentiment_radiology.toml", path)


def _as_text(doc: str | NormalisedText) -> NormalisedText:
    return doc if isinstance(doc, NormalisedText) else normalise(doc, detect=False)


def label_for(score: float, pos: float = 0.05, neg: float = -0.05) -> str:
    """Map a compound score to positive / neutral / negative."""
    if score >= pos:
        return "positive"
    if score <= neg:
        return "negative"
    return "neutral"


class PlainVader(BaseEstimator, ClassifierMixin):
    """Unmodified VADER on the raw text, the baseline of every sentiment evaluation."""

    name = "vader"
    version = "3.3.2"

    def __init__(self, pos_threshold: float = 0.05, neg_threshold: float = -0.05):
        self.pos_threshold = pos_threshold
        self.neg_threshold = neg_threshold

    def fit(self, X: Iterable | None = None, y: Iterable | None = None) -> PlainVader:
        """Nothing to learn: loads VADER; returns self."""
        self.analyzer_ = _base_analyzer()
        self.classes_ = np.array(LABELS)
        return self

    def score(self, X, y=None):
        return super().score(X, y)

    def decision_scores(self, X: Iterable[str | NormalisedText]) -> np.ndarray:
        """Compound scores in [-1, 1]."""
        if not hasattr(self, "analyzer_"):
            self.fit()
        out = []
        for doc in X:
            raw = doc.raw if isinstance(doc, NormalisedText) else doc
            out.append(self.analyzer_.polarity_scores(raw or "")["compound"])
        return np.array(out, dtype=float)

    def predict(self, X: Iterable[str | NormalisedText]) -> np.ndarray:
        """positive / neutral / negative for each post."""
        scores = self.decision_scores(X)
        return np.array([label_for(s, self.pos_threshold, self.neg_threshold) for s in scores])


class RadiologySentiment(BaseEstimator, ClassifierMixin):
    """VADER adapted to radiology (see the module docstring); lexicon-only, so `fit` just loads."""

    name = "radpulse-sentiment"
    version = "1.0.0"

    def __init__(
        self,
        lexicon_path: str | None = None,
        pos_threshold: float = 0.05,
        neg_threshold: float = -0.05,
        clinical_register: bool = True,
        sarcasm: bool = True,
        sarcasm_score: float = -0.4,
    ):
        self.lexicon_path = lexicon_path
        self.pos_threshold = pos_threshold
        self.neg_threshold = neg_threshold
        self.clinical_register = clinical_register
        self.sarcasm = sarcasm
        self.sarcasm_score = sarcasm_score

    def fit(self, X: Iterable | None = None, y: Iterable | None = None) -> RadiologySentiment:
        """Build the two analyzers and the compiled rules from the lexicon file; returns self."""
        raw = data_bytes("sentiment_radiology.toml", self.lexicon_path)
        lex = tomllib.loads(raw.decode("utf-8"))
        self.data_digest_ = digest([raw])  # an edited lexicon is a new model version
        phrases = {k.lower(): float(v) for k, v in lex.get("phrases", {}).items()}
        # each phrase becomes one pseudo-word that VADER looks up like any other word
        self.phrase_tokens_ = {p: f"rpphrase{i}" for i, p in enumerate(sorted(phrases))}
        phrase_valence = {self.phrase_tokens_[p]: v for p, v in phrases.items()}
        common = {k.lower(): float(v) for k, v in lex.get("lexicon", {}).items()}
        clinical = {k.lower(): float(v) for k, v in lex.get("clinical_lexicon", {}).items()}
        self.general_ = _copy_analyzer({**common, **phrase_valence})
        self.clinical_ = _copy_analyzer({**common, **clinical, **phrase_valence})
        self.context_terms_ = frozenset(t.lower() for t in lex["context"]["clinical_terms"])
        ordered = sorted(phrases, key=len, reverse=True)
        self.phrase_re_ = re.compile(
            r"(?<!\w)(" + "|".join(re.escape(p) for p in ordered) + r")(?!\w)", re.IGNORECASE
        ) if ordered else None
        self.neutralise_re_ = _compile_any(lex.get("neutralise", {}).get("patterns", []))
        self.sarcasm_re_ = _compile_any(lex.get("sarcasm", {}).get("patterns", []))
        # a rule can only match a post containing one of its gate words: skip the regex otherwise
        self.phrase_gate_ = frozenset(p.split()[0].split("-")[0].split("'")[0] for p in phrases)
        self.neutralise_gate_ = frozenset(lex.get("neutralise", {}).get("gate", []))
        self.sarcasm_gate_ = frozenset(lex.get("sarcasm", {}).get("gate", []))
        self.classes_ = np.array(LABELS)
        return self

    def _check(self) -> None:
        if not hasattr(self, "general_"):
            self.fit()

    def score_one(self, doc: str | NormalisedText) -> float:
        """Compound score of one post in [-1, 1]."""
        self._check()
        nt = _as_text(doc)
        text = nt.clean
        if not text:
            return 0.0
        analyzer = self.general_
        if self.clinical_register and not self.context_terms_.isdisjoint(nt.tokens):
            analyzer = self.clinical_
        vocab = nt.vocab or frozenset(nt.tokens)
        if (
            self.clinical_register
            and self.neutralise_re_ is not None
            and (not self.neutralise_gate_ or not self.neutralise_gate_.isdisjoint(vocab))
        ):
            text = self.neutralise_re_.sub(" ", text)
        if self.phrase_re_ is not None and not self.phrase_gate_.isdisjoint(vocab):
            text = self.phrase_re_.sub(self._phrase_sub, text)
        score = analyzer.polarity_scores(text)["compound"]
        if (
            self.sarcasm
            and self.sarcasm_re_ is not None
            and (not self.sarcasm_gate_ or not self.sarcasm_gate_.isdisjoint(vocab)
                 or "🙃" in nt.clean)
            and self.sarcasm_re_.search(nt.clean)
        ):
            score = min(score, self.sarcasm_score) if score > self.sarcasm_score else score
        return score

    def _phrase_sub(self, match: re.Match) -> str:
        return " " + self.phrase_tokens_[match.group(1).lower()] + " "

    def decision_scores(self, X: Iterable[str | NormalisedText]) -> np.ndarray:
        """Compound scores in [-1, 1]."""
        return np.array([self.score_one(d) for d in X], dtype=float)

    def predict_one(self, doc: str | NormalisedText) -> tuple[str, float]:
        """(label, score) of one post."""
        s = self.score_one(doc)
        return label_for(s, self.pos_threshold, self.neg_threshold), s

    def predict(self, X: Iterable[str | NormalisedText]) -> np.ndarray:
        """positive / neutral / negative for each post."""
        return np.array(
            [label_for(s, self.pos_threshold, self.neg_threshold) for s in self.decision_scores(X)]
        )


def _compile_any(patterns: list[str]) -> re.Pattern | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
