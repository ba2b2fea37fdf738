"""Features of the trained models, computed once per post and shared by every task.

- **word n-grams** (TF-IDF, uni- and bigrams) of the normalised text with two kinds of marking:
  report language ("no evidence of PE", "negative for", "no acute", "unremarkable") becomes the
  token ``rptneg`` (or ``rptnormal``) and the words after it ``neg_pe`` (describing a finding is not the
  author's negativity), and ordinary negation marks the next three words of its clause
  (``not great`` → ``not_great``); hashtags are kept as ``#tag`` tokens beside their words;
- **character n-grams** (TF-IDF, 2-5 characters within word boundaries) for spelling variants,
  emoji and the non-English minority;
- **lexicon scores**: negation-aware positive and negative valence sums over VADER's lexicon
  with the radiology valences of `RadiologySentiment` (the society-editable sentiment lexicon,
  general or clinical register), its sarcasm patterns, and one log-count per topic label from
  the curated topic lexicon (`Lexicon`), so editing either data file still moves the models.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from itertools import pairwise

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from radpulse.analysis.lexicon import Lexicon
from radpulse.analysis.sentiment import RadiologySentiment
from radpulse.analysis.text import NormalisedText, normalise

_TOKEN_RE = re.compile(r"[^\W_]+(?:['’][^\W\d_]+)?|[^\w\s]")
_REPORT_NEG_RE = re.compile(
    r"\b(?:no (?:evidence|signs?|features?) of|negative for|no acute|no new|no significant|"
    r"no focal|free of|ruled out|rules out|rule out|r/o|without evidence of)\b",
    re.IGNORECASE,
)
_REPORT_WORDS = re.compile(r"\b(?:unremarkable|within normal limits|normal study)\b", re.IGNORECASE)
NEGATORS = frozenset(["no", "not", "never", "without", "none", "nobody", "nothing", "neither",
                      "nor", "cannot", "isn't", "wasn't", "don't", "doesn't", "didn't", "can't",
                      "won't", "aren't", "haven't", "hasn't", "shouldn't", "wouldn't"])
CLAUSE_END = frozenset(".,;:!?")
NEGATION_SCOPE = 3


def marked_tokens(doc: NormalisedText) -> list[str]:
    """Lower-case tokens with report-language and negation marking, plus #hashtags."""
    text = _REPORT_WORDS.sub(" rptnormal ", _REPORT_NEG_RE.sub(" rptneg ", doc.clean))
    out: list[str] = []
    scope, prefix = 0, ""
    for tok in _TOKEN_RE.findall(text.lower()):
        if tok in CLAUSE_END:
            scope = 0
        elif scope:
            out.append(prefix + tok)
            scope -= 1
            continue
        out.append(tok)
        if tok == "rptneg":
            scope, prefix = NEGATION_SCOPE, "neg_"
        elif tok in NEGATORS:
            scope, prefix = NEGATION_SCOPE, "not_"
    out.extend("#" + tag for tag in doc.hashtags)
    return out


def word_ngrams(tokens: Sequence[str]) -> list[str]:
    """Unigrams and bigrams of a token list (module-level so a fitted model pickles)."""
    return list(tokens) + [f"{a} {b}" for a, b in pairwise(tokens)]


def char_ngrams(text: str, lo: int = 2, hi: int = 5) -> list[str]:
    """Character n-grams within word boundaries (as scikit-learn's ``char_wb``)."""
    out: list[str] = []
    for word in text.lower().split():
        w = f" {word} "
        out.extend(w[i:i + k] for k in range(lo, hi + 1) for i in range(len(w) - k + 1))
    return out


class CharNgrams(BaseEstimator, TransformerMixin):
    """TF-IDF of character n-grams, fast at prediction time: each distinct word's n-gram ids
    are computed once and cached, so a post costs one dictionary look-up per word."""

    def __init__(self, ngram_range: tuple[int, int] = (2, 5), min_df: int = 2,
                 max_features: int = 60_000):
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features

    def fit(self, texts: Sequence[str], y=None) -> CharNgrams:
        """Learn the vocabulary and the idf weights (scikit-learn's TfidfVectorizer); returns self."""
        lo, hi = self.ngram_range
        vec = TfidfVectorizer(analyzer=lambda t: char_ngrams(t, lo, hi), min_df=self.min_df,
                              max_features=self.max_features, sublinear_tf=True, dtype=np.float32)
        vec.fit(texts)
        self.vocabulary_ = dict(vec.vocabulary_)
        self.idf_ = vec.idf_.astype(np.float32)
        return self

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("cache_", None)
        return state

    def _ids(self, word: str) -> list[int]:
        lo, hi = self.ngram_range
        w = f" {word} "
        vocab = self.vocabulary_
        grams = (w[i:i + k] for k in range(lo, hi + 1) for i in range(len(w) - k + 1))
        return [vocab[g] for g in grams if g in vocab]

    def transform(self, texts: Sequence[str]):
        """Sublinear-tf × idf rows, l2-normalised (CSR, float32)."""
        cache = self.__dict__.setdefault("cache_", {})
        if len(cache) > 500_000:
            cache.clear()
        indices: list[int] = []
        indptr = [0]
        for text in texts:
            for word in text.lower().split():
                ids = cache.get(word)
                if ids is None:
                    ids = cache[word] = self._ids(word)
                indices.extend(ids)
            indptr.append(len(indices))
        m = sparse.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr),
                              shape=(len(texts), len(self.idf_)))
        m.sum_duplicates()
        m.data = (1.0 + np.log(m.data)) * self.idf_[m.indices]
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.diags((1.0 / norms).astype(np.float32)) @ m

    def fit_transform(self, texts, y=None):
        """Fit, then transform."""
        return self.fit(texts).transform(texts)


def as_docs(X) -> list[NormalisedText]:
    """Normalise whatever is not normalised yet."""
    return [d if isinstance(d, NormalisedText) else normalise(d or "", detect=False) for d in X]


class PostFeatures(BaseEstimator, TransformerMixin):
    """Word and character TF-IDF plus lexicon scores of normalised posts (see the module doc)."""

    def __init__(self, word_max_features: int = 40_000, char_max_features: int = 40_000,
                 char_ngram_range: tuple[int, int] = (2, 5), min_df: int = 2,
                 lexicon_weight: float = 1.0):
        self.word_max_features = word_max_features
        self.char_max_features = char_max_features
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.lexicon_weight = lexicon_weight

    def fit(self, X, y=None) -> PostFeatures:
        """Learn both vocabularies; returns self."""
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None):
        """Learn the vocabularies and return the feature matrix."""
        docs = as_docs(X)
        self.__dict__.pop("sentiment_", None)
        self._lexicons()
        self.words_ = TfidfVectorizer(analyzer=word_ngrams, min_df=self.min_df, sublinear_tf=True,
                                      max_features=self.word_max_features, dtype=np.float32)
        self.chars_ = CharNgrams(self.char_ngram_range, self.min_df, self.char_max_features)
        marked = [marked_tokens(d) for d in docs]
        w = self.words_.fit_transform(marked)
        c = self.chars_.fit_transform([d.clean for d in docs])
        # the pruned-term sets are only for introspection and make the file large
        self.words_.stop_words_ = None
        return sparse.hstack([w, c, self._dense(docs, marked)], format="csr")

    def transform(self, X):
        """Feature matrix of posts (rows in input order)."""
        docs = as_docs(X)
        marked = [marked_tokens(d) for d in docs]
        w = self.words_.transform(marked)
        c = self.chars_.transform([d.clean for d in docs])
        return sparse.hstack([w, c, self._dense(docs, marked)], format="csr")

    def __getstate__(self) -> dict:
        # the lexicons are read from the data files when loaded (they are the editable layer)
        state = dict(self.__dict__)
        state.pop("sentiment_", None)
        state.pop("lexicon_", None)
        return state

    def _lexicons(self) -> None:
        if not hasattr(self, "sentiment_"):
            # a society's own copies of the lexicon files, when set (`RadiologyModels.with_lexicons`)
            self.sentiment_ = RadiologySentiment(
                lexicon_path=getattr(self, "sentiment_lexicon_path", None)).fit()
            self.lexicon_ = Lexicon.load(getattr(self, "topic_lexicon_path", None))
            rs = self.sentiment_
            # VADER's lexicon with the radiology valences (general and clinical register)
            self.valences_ = (rs.general_.lexicon, rs.clinical_.lexicon)

    def _valence(self, doc: NormalisedText, marked: list[str]) -> list[float]:
        """Positive and negative valence sums of the VADER + radiology lexicon, negation-aware.

        A dictionary look-up per word, not VADER's rule engine (which alone would cost more
        than a third of the annotation's time budget); the n-grams learn the rest.
        """
        rs = self.sentiment_
        general, clinical = self.valences_
        lex = clinical if not rs.context_terms_.isdisjoint(doc.tokens) else general
        pos = neg = 0.0
        for tok in marked:
            flip = tok.startswith("not_")
            v = lex.get(tok[4:] if flip else tok)
            if v is None or tok.startswith("neg_"):
                continue
            v = -0.74 * v if flip else v  # VADER's negation scalar
            if v > 0:
                pos += v
            else:
                neg -= v
        n = max(1.0, float(len(marked))) ** 0.5
        sarcasm = rs.sarcasm_re_ is not None and (
            not rs.sarcasm_gate_.isdisjoint(doc.vocab or doc.tokens) or "🙃" in doc.clean
        ) and rs.sarcasm_re_.search(doc.clean) is not None
        return [pos / n, neg / n, math.tanh((pos - neg) / 4.0), float(sarcasm)]

    def _dense(self, docs: list[NormalisedText], marked: list[list[str]]):
        self._lexicons()
        rows = []
        counts = self.lexicon_.counts
        for d, m in zip(docs, marked):
            rows.append(self._valence(d, m) + [float("?" in d.clean), float("rptneg" in m)]
                        + counts(d))
        dense = np.asarray(rows, dtype=np.float32).reshape(len(docs), -1)
        dense[:, 6:] = np.log1p(dense[:, 6:])
        return sparse.csr_matrix(dense * self.lexicon_weight)
