"""Features of the trained models: one tokenisation per post, then sparse matrix products.

Every task reads the same feature matrix, built per batch:

- **tokens** (`marked_tokens`): the word tokens of `radpulse.analysis.text.normalise` (no
  second tokenizer), with two kinds of marking where a post has a negator or report language:
  report language ("no evidence of PE", "negative for", "unremarkable") becomes ``rptneg`` /
  ``rptnormal`` and the words after it ``neg_pe`` (describing a finding is not the author's
  negativity); ordinary negation marks the next three words of its clause (``not_great``);
  plus the post's emoji and ``#hashtag`` tokens.
- **word n-grams**: uni- and bigrams over a fitted vocabulary, sublinear TF-IDF, l2-normalised.
  Tokens become ids by one dictionary look-up each; bigrams are matched as integer keys with
  ``numpy.searchsorted``.
- **character n-grams** (2-5 characters within each token; a hashtag's start is marked with
  ``#``), sublinear TF-IDF, l2-normalised: the token-count matrix times a fitted token × n-gram
  matrix (n-grams of tokens outside the vocabulary are computed once per distinct token and
  cached).
- **lexicon scores**: the token-count matrix times a table of valences and topic-lexicon hits
  read from the editable data files (`RadiologySentiment`'s VADER + radiology valences in the
  general and the clinical register, negated tokens scaled by VADER's -0.74, report-negated
  ones zero; `Lexicon` terms and hashtags per label), multi-word terms and phrases matched as
  hashed n-gram keys, plus the sarcasm patterns, '?' and '!' per post. Editing either data file
  still moves the models, without retraining.

Extra dense features (for instance sentence embeddings) are not computed here: see
`radpulse.analysis.models.DenseFeatures`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from itertools import chain

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import normalize

from radpulse.analysis.lexicon import LABELS, Lexicon
from radpulse.analysis.sentiment import RadiologySentiment
from radpulse.analysis.text import NormalisedText, normalise

_WORD_PUNCT_RE = re.compile(r"[^\W_]+(?:['’][^\W\d_]+)?|[.,;:!?]")
_EMOJI_RE = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50\u2B55\u203C\u2049]")
_REPORT_NEG_RE = re.compile(
    r"\b(?:no (?:evidence|signs?|features?) of|negative for|no acute|no new|no significant|"
    r"no focal|free of|ruled out|rules out|rule out|r/o|without evidence of)\b",
    re.IGNORECASE,
)
_REPORT_WORDS = re.compile(r"\b(?:unremarkable|within normal limits|normal study)\b", re.IGNORECASE)
_REPORT_GATE = frozenset(["no", "negative", "free", "ruled", "rules", "rule", "r", "without",
                          "unremarkable", "within", "normal"])
_NEGATOR_WORDS = ["no", "not", "never", "without", "none", "nobody", "nothing", "neither", "nor",
                  "cannot", "isn't", "wasn't", "don't", "doesn't", "didn't", "can't", "won't",
                  "aren't", "haven't", "hasn't", "shouldn't", "wouldn't"]
NEGATORS = frozenset(_NEGATOR_WORDS + [w.replace("'", "’") for w in _NEGATOR_WORDS if "'" in w])
_MARK_GATE = NEGATORS | _REPORT_GATE
CLAUSE_END = frozenset(".,;:!?")
NEGATION_SCOPE = 3
#: VADER's scalar for a negated word
NEGATION_SCALAR = -0.74
_PREFIXES = ("not_", "neg_")
#: lexicon table columns: valences (general, clinical register), clinical context, then labels
_POS_G, _NEG_G, _POS_C, _NEG_C, _CTX = range(5)
_N_LEX = 5 + len(LABELS)
_MIX = np.uint64(0x9E3779B97F4A7C15)


def marked_tokens(doc: NormalisedText) -> list[str]:
    """Lower-case tokens with report-language and negation marking, emoji and #hashtags."""
    vocab = doc.vocab or frozenset(doc.tokens)
    if vocab.isdisjoint(_MARK_GATE):
        out = list(doc.tokens)
    else:
        text = doc.clean
        if not vocab.isdisjoint(_REPORT_GATE):
            text = _REPORT_WORDS.sub(" rptnormal ", _REPORT_NEG_RE.sub(" rptneg ", text))
        out = []
        scope, prefix = 0, ""
        for tok in _WORD_PUNCT_RE.findall(text.lower()):
            if tok in CLAUSE_END:
                scope = 0
                continue
            if scope:
                out.append(prefix + tok)
                scope -= 1
                continue
            out.append(tok)
            if tok == "rptneg":
                scope, prefix = NEGATION_SCOPE, "neg_"
            elif tok in NEGATORS:
                scope, prefix = NEGATION_SCOPE, "not_"
    if not doc.clean.isascii():
        out.extend(_EMOJI_RE.findall(doc.clean))
    out.extend("#" + tag for tag in doc.hashtags)
    return out


def base_token(tok: str) -> str:
    """The token without its negation mark (``not_great`` → ``great``)."""
    return tok[4:] if tok.startswith(_PREFIXES) else tok


def char_grams(tok: str, lo: int = 2, hi: int = 5) -> list[str]:
    """Character n-grams of one token within its boundaries (a hashtag keeps its '#')."""
    w = f" {base_token(tok)} "
    return [w[i:i + k] for k in range(lo, hi + 1) for i in range(len(w) - k + 1)]


def as_docs(X) -> list[NormalisedText]:
    """Normalise whatever is not normalised yet."""
    return [d if isinstance(d, NormalisedText) else normalise(d or "", detect=False) for d in X]


def _idf(df: np.ndarray, n: int) -> np.ndarray:
    """scikit-learn's smooth idf."""
    return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)


def _sublinear(m: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """(1 + log tf) × idf, rows l2-normalised (in place on a fresh matrix)."""
    m.data = (1.0 + np.log(m.data, dtype=np.float32)) * idf[m.indices]
    return normalize(m, copy=False)


def _ngram_keys(ids: np.ndarray, doc_idx: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(start positions, hashed keys) of the n-grams of known ids inside one document."""
    m = len(ids) - n + 1
    if m <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    ok = (doc_idx[:m] == doc_idx[n - 1:]) & (ids[:m] >= 0)
    key = ids[:m].astype(np.uint64)
    for k in range(1, n):
        nxt = ids[k:k + m]
        ok &= nxt >= 0
        key = key * _MIX + nxt.astype(np.uint64)
    pos = np.flatnonzero(ok)
    return pos, key[pos]


def _key_of(ids: Sequence[int]) -> np.uint64:
    key = np.uint64(ids[0])
    with np.errstate(over="ignore"):
        for i in ids[1:]:
            key = key * _MIX + np.uint64(i)
    return key


class PostFeatures(BaseEstimator, TransformerMixin):
    """Word and character TF-IDF plus lexicon scores of normalised posts (see the module doc).

    `priority` (set by the caller before fitting) is the number of leading documents whose
    tokens and bigrams seen `min_df` times are always in the vocabulary (the radiology posts,
    so that general training texts do not crowd out radiology's rarer words).
    """

    def __init__(self, word_max_features: int = 60_000, bigram_max_features: int = 60_000,
                 char_max_features: int = 50_000, char_ngram_range: tuple[int, int] = (2, 5),
                 min_df: int = 2, lexicon_weight: float = 1.0, chars: bool = True):
        self.word_max_features = word_max_features
        self.bigram_max_features = bigram_max_features
        self.char_max_features = char_max_features
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.lexicon_weight = lexicon_weight
        self.chars = chars

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, X, y=None, priority: int = 0) -> PostFeatures:
        """Learn the vocabularies and idf weights; returns self."""
        self.fit_transform(X, priority=priority)
        return self

    def fit_transform(self, X, y=None, priority: int = 0):
        """Learn the vocabularies and return the feature matrix."""
        docs = as_docs(X)
        toks = [marked_tokens(d) for d in docs]
        n = len(docs)
        md = self.min_df
        df = Counter(chain.from_iterable(set(t) for t in toks))
        keep: set[str] = set()
        if priority:
            df_p = Counter(chain.from_iterable(set(t) for t in toks[:priority]))
            keep = {t for t, c in df_p.items() if c >= md}
        ranked = sorted((t for t, c in df.items() if c >= md or t in keep),
                        key=lambda t: (t not in keep, -df[t], t))
        vocab = sorted(ranked[: max(self.word_max_features, len(keep))])
        self.vocabulary_ = {t: i for i, t in enumerate(vocab)}
        nv = len(vocab)
        self.word_idf_ = _idf(np.array([df[t] for t in vocab], dtype=np.float64), n)
        # bigrams of vocabulary ids, as integer keys a * nv + b
        get = self.vocabulary_.get
        ids = [[get(t, -1) for t in ts] for ts in toks]
        bdf: Counter = Counter()
        bdf_p: Counter = Counter()
        for i, row in enumerate(ids):
            pairs = {a * nv + b for a, b in zip(row, row[1:]) if a >= 0 and b >= 0}
            bdf.update(pairs)
            if i < priority:
                bdf_p.update(pairs)
        bkeep = {k for k, c in bdf_p.items() if c >= md}
        branked = sorted((k for k, c in bdf.items() if c >= md or k in bkeep),
                         key=lambda k: (k not in bkeep, -bdf[k], k))
        bkeys = np.array(sorted(branked[: max(self.bigram_max_features, len(bkeep))]), dtype=np.int64)
        self.bigram_keys_ = bkeys
        self.bigram_idf_ = _idf(np.array([bdf[int(k)] for k in bkeys], dtype=np.float64), n)
        if self.chars:
            self._fit_chars(toks, n, priority)
        self.__dict__.pop("lex_", None)
        return self._matrix(docs, toks)

    def _fit_chars(self, toks: list[list[str]], n: int, priority: int) -> None:
        """Character n-gram vocabulary (by document frequency) and the token × n-gram matrix."""
        lo, hi = self.char_ngram_range
        distinct = sorted(set(chain.from_iterable(toks)))
        tid = {t: i for i, t in enumerate(distinct)}
        gram_id: dict[str, int] = {}
        rows, cols = [], []
        for i, t in enumerate(distinct):
            for g in set(char_grams(t, lo, hi)):
                rows.append(i)
                cols.append(gram_id.setdefault(g, len(gram_id)))
        G = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                              shape=(len(distinct), len(gram_id)))
        r = np.repeat(np.arange(n), [len(t) for t in toks])
        c = np.fromiter((tid[t] for t in chain.from_iterable(toks)), dtype=np.int64, count=len(r))
        T = sparse.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(n, len(distinct)))
        present = (T @ G).tocsc()
        present.data[:] = 1
        gdf = np.asarray(present.sum(axis=0)).ravel()
        gdf_p = np.asarray(present[:priority].sum(axis=0)).ravel() if priority else np.zeros_like(gdf)
        grams = list(gram_id)
        order = sorted((j for j in range(len(grams)) if gdf[j] >= self.min_df),
                       key=lambda j: (gdf_p[j] < self.min_df, -gdf[j], grams[j]))
        chosen = sorted(order[: self.char_max_features], key=lambda j: grams[j])
        self.char_vocabulary_ = {grams[j]: k for k, j in enumerate(chosen)}
        self.char_idf_ = _idf(gdf[chosen].astype(np.float64), n)
        self.word_chars_ = self._char_rows(list(self.vocabulary_))

    def _char_rows(self, tokens: list[str]) -> sparse.csr_matrix:
        """Token × character n-gram counts over the fitted n-gram vocabulary."""
        lo, hi = self.char_ngram_range
        cv = self.char_vocabulary_
        indptr, indices = [0], []
        for t in tokens:
            indices.extend(cv[g] for g in char_grams(t, lo, hi) if g in cv)
            indptr.append(len(indices))
        m = sparse.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr),
                              shape=(len(tokens), len(cv)))
        m.sum_duplicates()
        return m

    # -- the editable lexicons ----------------------------------------------------------------
    def __getstate__(self) -> dict:
        # the lexicon tables are rebuilt from the data files when loaded (the editable layer)
        state = dict(self.__dict__)
        for key in ("lex_", "char_cache_"):
            state.pop(key, None)
        return state

    def _lexicons(self) -> dict:
        lex = self.__dict__.get("lex_")
        if lex is None:
            lex = self.lex_ = self._build_lexicons()
        return lex

    def _build_lexicons(self) -> dict:
        """Token table = vocabulary + every lexicon token; per token valences and label hits."""
        rs = RadiologySentiment(lexicon_path=getattr(self, "sentiment_lexicon_path", None)).fit()
        topics = Lexicon.load(getattr(self, "topic_lexicon_path", None))
        general, clinical = rs.general_.lexicon, rs.clinical_.lexicon
        table = dict(self.vocabulary_)

        def add(tok: str) -> int:
            return table.setdefault(tok, len(table))

        words = {w for w in chain(general, clinical) if not w.startswith("rpphrase")}
        words |= {k[0] for k in topics.terms if len(k) == 1} | set(rs.context_terms_)
        for w in sorted(words):
            for tok in (w, "not_" + w, "neg_" + w):
                add(tok)
        for tag in sorted(topics.hashtags):
            add("#" + tag)
        phrases = {tuple(_WORD_PUNCT_RE.findall(p)): v for p, v in
                   ((p, general.get(t, 0.0)) for p, t in rs.phrase_tokens_.items())}
        multi = {k: v for k, v in topics.terms.items() if len(k) > 1}
        for key in chain(multi, phrases):
            for w in key:
                add(w)
        add("rptneg")
        rows = np.zeros((len(table), _N_LEX), dtype=np.float32)
        base = np.full(len(table), -1, dtype=np.int64)
        ctx = rs.context_terms_
        for tok, i in table.items():
            b = base_token(tok)
            base[i] = table.get(b, -1)
            if tok.startswith("#"):
                hits = topics.hashtags.get(tok[1:], ())
            else:
                hits = topics.words.get(b, ()) if topics.words else ()
                scale = 0.0 if tok.startswith("neg_") else NEGATION_SCALAR if tok.startswith("not_") else 1.0
                for col, lexicon in ((_POS_G, general), (_POS_C, clinical)):
                    v = lexicon.get(b, 0.0) * scale
                    rows[i, col if v > 0 else col + 1] = abs(v)
                rows[i, _CTX] = float(b in ctx)
            for j in hits:
                rows[i, 5 + j] += 1.0
        # multi-word terms and phrases: hashed n-gram keys over base ids
        keys: dict[int, dict[np.uint64, np.ndarray]] = {}
        for words_, hits in multi.items():
            vec = np.zeros(_N_LEX, dtype=np.float32)
            for j in hits:
                vec[5 + j] = 1.0
            keys.setdefault(len(words_), {})[_key_of([table[w] for w in words_])] = vec
        for words_, v in phrases.items():
            if not words_:
                continue
            vec = keys.setdefault(len(words_), {}).setdefault(
                _key_of([table[w] for w in words_]), np.zeros(_N_LEX, dtype=np.float32))
            vec[_POS_G if v > 0 else _NEG_G] += abs(v)
            vec[_POS_C if v > 0 else _NEG_C] += abs(v)
        ngrams = {}
        for n, d in keys.items():
            order = sorted(d)
            ngrams[n] = (np.array(order, dtype=np.uint64), np.stack([d[k] for k in order]))
        return {"table": table, "rows": sparse.csr_matrix(rows), "base": base, "ngrams": ngrams,
                "sarcasm": rs}

    # -- transforming -------------------------------------------------------------------------
    def transform(self, X):
        """Feature matrix of posts (rows in input order): [words | characters | lexicon]."""
        docs = as_docs(X)
        return self._matrix(docs, [marked_tokens(d) for d in docs])

    def _matrix(self, docs: list[NormalisedText], toks: list[list[str]]) -> sparse.csr_matrix:
        lex = self._lexicons()
        table = lex["table"]
        n, nv = len(docs), len(self.vocabulary_)
        lengths = np.fromiter((len(t) for t in toks), dtype=np.int64, count=n)
        flat = list(chain.from_iterable(toks))
        get = table.get
        ids = np.fromiter((get(t, -1) for t in flat), dtype=np.int64, count=len(flat))
        doc_idx = np.repeat(np.arange(n), lengths)
        ones = np.ones(len(ids), dtype=np.float32)
        known = ids >= 0
        T = sparse.csr_matrix((ones[known], (doc_idx[known], ids[known])), shape=(n, len(table)))
        # words: unigrams and bigrams of vocabulary ids
        voc = np.where(ids < nv, ids, -1)
        same = doc_idx[:-1] == doc_idx[1:]
        a, b = voc[:-1], voc[1:]
        pair = same & (a >= 0) & (b >= 0)
        keys = a[pair] * nv + b[pair]
        pos = np.searchsorted(self.bigram_keys_, keys)
        pos[pos >= len(self.bigram_keys_)] = 0
        hit = self.bigram_keys_[pos] == keys if len(self.bigram_keys_) else np.zeros(len(keys), bool)
        B = sparse.csr_matrix((np.ones(int(hit.sum()), dtype=np.float32),
                               (doc_idx[:-1][pair][hit], pos[hit])), shape=(n, len(self.bigram_keys_)))
        words = sparse.hstack([T[:, :nv], B], format="csr")
        words.sum_duplicates()
        words = _sublinear(words, np.concatenate([self.word_idf_, self.bigram_idf_]))
        blocks = [words]
        if self.chars:
            blocks.append(self._chars(T[:, :nv], flat, ids, doc_idx, n))
        blocks.append(self._lexicon_block(docs, lex, T, ids, doc_idx, lengths))
        return sparse.hstack(blocks, format="csr", dtype=np.float32)

    def _chars(self, Tv, flat, ids, doc_idx, n) -> sparse.csr_matrix:
        """Character n-grams: vocabulary tokens by the fitted matrix, others from a cache."""
        counts = Tv @ self.word_chars_
        other = np.flatnonzero((ids < 0) | (ids >= Tv.shape[1]))
        if len(other):
            cache = self.__dict__.setdefault("char_cache_", {})
            if len(cache) > 200_000:
                cache.clear()
            local: dict[str, int] = {}
            cols = np.fromiter((local.setdefault(flat[i], len(local)) for i in other),
                               dtype=np.int64, count=len(other))
            todo = [t for t in local if t not in cache]
            if todo:
                rows = self._char_rows(todo)
                for k, t in enumerate(todo):
                    cache[t] = rows[k]
            W = sparse.vstack([cache[t] for t in local], format="csr")
            To = sparse.csr_matrix((np.ones(len(other), dtype=np.float32), (doc_idx[other], cols)),
                                   shape=(n, len(local)))
            counts = counts + To @ W
        counts = sparse.csr_matrix(counts, dtype=np.float32)
        counts.sum_duplicates()
        counts.eliminate_zeros()
        return _sublinear(counts, self.char_idf_)

    def _lexicon_block(self, docs, lex, T, ids, doc_idx, lengths) -> sparse.csr_matrix:
        """Valence sums, sarcasm, '?', '!', report language and log lexicon hits per label."""
        L = np.asarray((T @ lex["rows"]).todense(), dtype=np.float32)
        base = np.where(ids >= 0, lex["base"][np.maximum(ids, 0)], -1)
        for n_words, (keys, vecs) in lex["ngrams"].items():
            pos, k = _ngram_keys(base, doc_idx, n_words)
            if not len(k):
                continue
            j = np.searchsorted(keys, k)
            j[j >= len(keys)] = 0
            hit = keys[j] == k
            if hit.any():
                np.add.at(L, doc_idx[pos[hit]], vecs[j[hit]])
        clinical = L[:, _CTX] > 0
        pos_ = np.where(clinical, L[:, _POS_C], L[:, _POS_G])
        neg_ = np.where(clinical, L[:, _NEG_C], L[:, _NEG_G])
        root = np.sqrt(np.maximum(lengths, 1)).astype(np.float32)
        rs = lex["sarcasm"]
        rptneg = lex["table"]["rptneg"]
        per_doc = np.array([
            [float(rs.sarcasm_re_ is not None and (
                not rs.sarcasm_gate_.isdisjoint(d.vocab or d.tokens) or "🙃" in d.clean)
                and rs.sarcasm_re_.search(d.clean) is not None),
             float("?" in d.clean), float("!" in d.clean)] for d in docs], dtype=np.float32).reshape(-1, 3)
        dense = np.column_stack([
            pos_ / root, neg_ / root, np.tanh((pos_ - neg_) / 4.0), per_doc,
            np.asarray(T[:, rptneg].todense()).ravel() > 0, np.log1p(L[:, 5:]),
        ]).astype(np.float32)
        return sparse.csr_matrix(dense * np.float32(self.lexicon_weight))

    @property
    def n_features(self) -> int:
        """Width of the feature matrix."""
        chars = len(self.char_idf_) if self.chars else 0
        return len(self.word_idf_) + len(self.bigram_idf_) + chars + 7 + len(LABELS)


