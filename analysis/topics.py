"""Multi-label radiology topics: curated lexicon + a scikit-learn model trained on shipped data.

Taxonomy (see `radpulse.analysis.lexicon`): one or more subspecialties (``general`` when none
applies) and any number of themes. Features are TF-IDF word uni/bi-grams of the normalised text
plus one lexicon-hit count per label, so a society that adds terms to
``data/topic_lexicon.toml`` moves predictions without retraining code; a one-vs-rest logistic
regression learns how far to trust each.

The default model is trained at first use from ``data/topics_train.tsv`` (deterministic, about
a quarter of a second) and cached for the process. ``data/topics_test.tsv`` is held out for
`radpulse.analysis.evaluate` only.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer

from radpulse.analysis.data_files import data_text, digest
from radpulse.analysis.lexicon import GENERAL, LABELS, SUBSPECIALTIES, THEMES, Lexicon
from radpulse.analysis.text import NormalisedText, normalise


def word_ngrams(tokens: Sequence[str]) -> list[str]:
    """Unigrams and bigrams of a token list (the TF-IDF analyzer; module-level so it pickles)."""
    return list(tokens) + [f"{a} {b}" for a, b in pairwise(tokens)]


def _docs(X: Iterable[str | NormalisedText]) -> list[NormalisedText]:
    return [d if isinstance(d, NormalisedText) else normalise(d, detect=False) for d in X]


@dataclass(frozen=True, slots=True)
class TopicPrediction:
    """Topics of one post."""

    subspecialty: str
    subspecialties: list[str]
    themes: list[str]


class TopicClassifier(BaseEstimator, ClassifierMixin):
    """Lexicon + TF-IDF one-vs-rest logistic regression over the radiology taxonomy."""

    name = "radpulse-topics"
    version = "1.0.0"

    def __init__(
        self,
        lexicon_path: str | None = None,
        C: float = 8.0,
        threshold: float = 0.5,
        lexicon_weight: float = 1.0,
        min_df: int = 1,
    ):
        self.lexicon_path = lexicon_path
        self.C = C
        self.threshold = threshold
        self.lexicon_weight = lexicon_weight
        self.min_df = min_df

    # -- features ---------------------------------------------------------------------------
    def _features(self, docs: list[NormalisedText], fit: bool = False):
        token_lists = [d.tokens for d in docs]
        if fit:
            tfidf = self.vectorizer_.fit_transform(token_lists)
        else:
            tfidf = self.vectorizer_.transform(token_lists)
        counts = np.array([self.lexicon_.counts(d) for d in docs], dtype=float).reshape(
            len(docs), len(LABELS)
        )
        lex = sparse.csr_matrix(np.log1p(counts) * self.lexicon_weight)
        return sparse.hstack([tfidf, lex], format="csr")

    # -- estimator API ----------------------------------------------------------------------
    def fit(self, X: Iterable[str | NormalisedText], y: Iterable[Iterable[str]]) -> TopicClassifier:
        """Learn from posts and their label lists (subspecialties and themes mixed); returns self."""
        docs = _docs(X)
        labels = [[lab for lab in ys if lab != GENERAL] for ys in y]
        self.lexicon_ = Lexicon.load(self.lexicon_path)
        # the version's data half: the lexicon file and the training set (texts and labels)
        self.data_digest_ = digest([self.lexicon_.digest,
                                    *(f"{d.raw}\t{','.join(ls)}" for d, ls in zip(docs, labels))])
        self.binarizer_ = MultiLabelBinarizer(classes=list(LABELS))
        Y = self.binarizer_.fit_transform(labels)
        self.vectorizer_ = TfidfVectorizer(
            analyzer=word_ngrams, min_df=self.min_df, sublinear_tf=True, dtype=np.float32
        )
        Xf = self._features(docs, fit=True)
        # labels absent from the training set cannot be learned: keep them out of the model
        self.trained_labels_ = [lab for j, lab in enumerate(LABELS) if 0 < Y[:, j].sum() < len(Y)]
        cols = [LABELS.index(lab) for lab in self.trained_labels_]
        self.model_ = OneVsRestClassifier(
            LogisticRegression(C=self.C, class_weight="balanced", solver="liblinear")
        ).fit(Xf, Y[:, cols])
        self.classes_ = np.array(LABELS)
        return self

    def predict_proba(self, X: Iterable[str | NormalisedText]) -> np.ndarray:
        """Probability of every label (columns in `classes_` order)."""
        docs = _docs(X)
        out = np.zeros((len(docs), len(LABELS)))
        if not docs:
            return out
        probs = self.model_.predict_proba(self._features(docs))
        for k, lab in enumerate(self.trained_labels_):
            out[:, LABELS.index(lab)] = probs[:, k]
        return out

    def predict(self, X: Iterable[str | NormalisedText]) -> list[list[str]]:
        """Label lists: subspecialties (or 'general') followed by themes."""
        return [
            p.subspecialties + p.themes for p in self.predict_topics(X)
        ]

    def predict_topics(self, X: Iterable[str | NormalisedText]) -> list[TopicPrediction]:
        """Subspecialty (single best), subspecialties and themes of each post."""
        probs = self.predict_proba(X)
        n_sub = len(SUBSPECIALTIES)
        order = np.argsort(-probs[:, :n_sub], axis=1, kind="stable").tolist()
        above = (probs >= self.threshold).tolist()
        results = []
        for row_order, row_above in zip(order, above):
            subs = [SUBSPECIALTIES[j] for j in row_order if row_above[j]] or [GENERAL]
            themes = [THEMES[j] for j, hit in enumerate(row_above[n_sub:]) if hit]
            results.append(TopicPrediction(subs[0], subs, themes))
        return results

    def explain(self, text: str | NormalisedText) -> dict[str, list[str]]:
        """Lexicon terms that fired for each label on one post."""
        return self.lexicon_.match(_docs([text])[0])


def read_labelled(name: str) -> tuple[list[str], list[list[str]]]:
    """Texts and label lists from a packaged ``subspecialties<TAB>themes<TAB>text`` file."""
    raw = data_text(name)
    texts, labels = [], []
    rows = csv.reader(raw.splitlines()[1:], delimiter="\t", quoting=csv.QUOTE_NONE)
    for subs, themes, text in rows:
        texts.append(text)
        labels.append([s for s in subs.split(",") if s] + [t for t in themes.split(",") if t])
    return texts, labels


@lru_cache(maxsize=1)
def default_topic_classifier() -> TopicClassifier:
    """The shipped model: trained once per process on data/topics_train.tsv."""
    texts, labels = read_labelled("topics_train.tsv")
    return TopicClassifier().fit(texts, labels)
