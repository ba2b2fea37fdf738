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
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

from radpulse.analysis.lexicon import LABELS, Lexicon
from radpulse.analysis.sentiment import RadiologySentiment, load_lexicon
from radpulse.analysis.text import NormalisedText, normalise

_WORD_PUNCT_RE = re.compile(r"[^\W_]+(?:['’][^\W\d_]+)?|[.,;:!?]")
_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
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
    out.extend("#" + tag for tag in doc.hashtags)
    if not doc.clean.isascii():
        joined = "\x00".join(out)
        if not joined.isascii():
            out = fold(joined).split("\x00")
        out.extend(_EMOJI_RE.findall(doc.clean))
    return out


def fold(text: str) -> str:
    """Text without accents (``cérébral`` → ``cerebral``; NFKD, combining marks removed)."""
    if text.isascii():
        return text
    return _COMBINING_RE.sub("", unicodedata.normalize("NFKD", text))


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


def _unit_rows(data: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """The values of a sparse matrix (row of each value given) scaled to unit l2 norm per row."""
    norms = np.sqrt(np.bincount(rows, weights=data.astype(np.float64) ** 2, minlength=n))
    norms[norms == 0] = 1.0
    return (data / norms[rows]).astype(np.float32)


def _csr(data, cols, rows, n: int, width: int) -> sparse.csr_matrix:
    """CSR matrix from entries sorted by row."""
    indptr = np.searchsorted(rows, np.arange(n + 1))
    return sparse.csr_matrix((data, cols, indptr), shape=(n, width))


@dataclass
class BatchParts:
    """The pieces of one batch's features (see `PostFeatures.parts`)."""

    words: sparse.csr_matrix
    vocab_counts: sparse.csr_matrix
    other_tokens: list[str]
    other_counts: sparse.csr_matrix | None
    inv_root: np.ndarray
    lexicon: np.ndarray


def _sarcasm_rules(path: str | None):
    """A function telling whether a post matches one of the sarcasm patterns of the sentiment
    lexicon. Each pattern is tried only on posts containing one of the lexicon's gate words that
    occur in the pattern's own text (every pattern must contain a gate word), and, when written
    in lower case, without IGNORECASE on the lower-cased text (several times faster)."""
    section = load_lexicon(path).get("sarcasm", {})
    gate = [w.lower() for w in section.get("gate", [])]
    rules = []
    for pattern in section.get("patterns", []):
        lower = pattern == pattern.lower()
        rx = re.compile(pattern) if lower else re.compile(pattern, re.IGNORECASE)
        words = frozenset(w for w in gate if w in pattern.lower())
        rules.append((rx, lower, words))

    every = frozenset().union(*(words for _, _, words in rules))

    def sarcastic(doc: NormalisedText) -> bool:
        vocab = doc.vocab or frozenset(doc.tokens)
        any_gate = not every.isdisjoint(vocab)
        low = None
        for rx, lower, words in rules:
            if words and (not any_gate or words.isdisjoint(vocab)):
                continue
            if lower:
                low = doc.clean.lower() if low is None else low
                if rx.search(low):
                    return True
            elif rx.search(doc.clean):
                return True
        return False

    return sarcastic


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
        self.__dict__.pop("char_cache_", None)

    def _char_rows(self, tokens: list[str]) -> sparse.csr_matrix:
        """Each token's character n-gram vector: counts × idf, l2-normalised (tokens × n-grams)."""
        lo, hi = self.char_ngram_range
        cv = self.char_vocabulary_
        indptr, indices = [0], []
        for t in tokens:
            indices.extend(cv[g] for g in char_grams(t, lo, hi) if g in cv)
            indptr.append(len(indices))
        m = sparse.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr),
                              shape=(len(tokens), len(cv)))
        m.sum_duplicates()
        m.data = _unit_rows(m.data * self.char_idf_[m.indices],
                            np.repeat(np.arange(len(tokens)), np.diff(m.indptr)), len(tokens))
        return m

    # -- the editable lexicons ----------------------------------------------------------------
    def __getstate__(self) -> dict:
        # the lexicon tables are rebuilt from the data files when loaded (the editable layer)
        state = dict(self.__dict__)
        for key in ("lex_", "char_cache_", "char_score_cache_", "char_score_key_"):
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
        general = {fold(k): v for k, v in rs.general_.lexicon.items()}
        clinical = {fold(k): v for k, v in rs.clinical_.lexicon.items()}
        words_1 = {fold(k): v for k, v in (topics.words or {}).items()}
        tags = {fold(k): v for k, v in topics.hashtags.items()}
        ctx = frozenset(fold(t) for t in rs.context_terms_)
        table = dict(self.vocabulary_)

        def add(tok: str) -> int:
            return table.setdefault(tok, len(table))

        words = {w for w in chain(general, clinical) if not w.startswith("rpphrase")}
        words |= set(words_1) | ctx
        for w in sorted(words):
            for tok in (w, "not_" + w, "neg_" + w):
                add(tok)
        for tag in sorted(tags):
            add("#" + tag)
        phrases = {tuple(fold(w) for w in _WORD_PUNCT_RE.findall(p)): v for p, v in
                   ((p, general.get(t, 0.0)) for p, t in rs.phrase_tokens_.items())}
        multi: dict[tuple[str, ...], tuple[int, ...]] = {}
        for k, v in topics.terms.items():
            if len(k) > 1:
                key = tuple(fold(w) for w in k)
                multi[key] = tuple(sorted(set(multi.get(key, ())) | set(v)))
        for key in chain(multi, phrases):
            for w in key:
                add(w)
        add("rptneg")
        rows = np.zeros((len(table), _N_LEX), dtype=np.float32)
        base = np.full(len(table), -1, dtype=np.int64)
        for tok, i in table.items():
            b = base_token(tok)
            base[i] = table.get(b, -1)
            if tok.startswith("#"):
                hits = tags.get(tok[1:], ())
            else:
                hits = words_1.get(b, ())
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
        return {"table": table, "rows": rows, "base": base, "ngrams": ngrams,
                "sarcasm": _sarcasm_rules(getattr(self, "sentiment_lexicon_path", None))}

    # -- transforming -------------------------------------------------------------------------
    def transform(self, X):
        """Feature matrix of posts (rows in input order): [words | characters | lexicon]."""
        docs = as_docs(X)
        return self._matrix(docs, [marked_tokens(d) for d in docs])

    def _matrix(self, docs: list[NormalisedText], toks: list[list[str]]) -> sparse.csr_matrix:
        parts = self.parts(docs, toks)
        blocks = [parts.words]
        if self.chars:
            chars = parts.vocab_counts @ self.word_chars_
            if parts.other_counts is not None:
                chars = chars + parts.other_counts @ self._other_chars(parts.other_tokens)
            blocks.append(sparse.diags(parts.inv_root) @ chars)
        blocks.append(sparse.csr_matrix(parts.lexicon))
        return sparse.hstack(blocks, format="csr", dtype=np.float32)

    def parts(self, docs: list[NormalisedText], toks: list[list[str]] | None = None) -> BatchParts:
        """The pieces of a batch's feature matrix, before they are put side by side.

        ``words`` (CSR) and ``lexicon`` (dense) are blocks of the matrix; the character block is
        ``inv_root`` × (``vocab_counts`` @ `word_chars_` + ``other_counts`` @ the n-gram rows of
        ``other_tokens``): each token's unit n-gram vector, summed over the post's tokens and
        divided by the square root of their number. Being linear in the token counts, a model
        can fold its character weights into one score vector per token (`char_scores`).
        """
        if toks is None:
            toks = [marked_tokens(d) for d in docs]
        lex = self._lexicons()
        n, nv = len(docs), len(self.vocabulary_)
        lengths = np.fromiter((len(t) for t in toks), dtype=np.int64, count=n)
        flat = list(chain.from_iterable(toks))
        ids = np.fromiter(map(lex["table"].get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
        doc_idx = np.repeat(np.arange(n), lengths)
        # words: unigram and bigram columns of each post, counted with one np.unique
        in_vocab = (ids >= 0) & (ids < nv)
        voc = np.where(in_vocab, ids, -1)
        same = doc_idx[:-1] == doc_idx[1:]
        a, b = voc[:-1], voc[1:]
        pair = np.flatnonzero(same & (a >= 0) & (b >= 0))
        bkeys = a[pair] * nv + b[pair]
        nb = len(self.bigram_keys_)
        pos = np.searchsorted(self.bigram_keys_, bkeys)
        pos[pos >= nb] = 0
        hit = self.bigram_keys_[pos] == bkeys if nb else np.zeros(len(bkeys), dtype=bool)
        width = nv + nb
        keys = np.concatenate([doc_idx[in_vocab] * width + ids[in_vocab],
                               doc_idx[pair[hit]] * width + nv + pos[hit]])
        uniq, counts = np.unique(keys, return_counts=True)
        rows, cols = np.divmod(uniq, width)
        indptr = np.searchsorted(rows, np.arange(n + 1))
        uni = cols < nv
        counts = counts.astype(np.float32)
        vocab_counts = _csr(counts[uni], cols[uni], rows[uni], n, nv)
        data = ((1.0 + np.log(counts)) * np.concatenate([self.word_idf_, self.bigram_idf_])[cols])
        data = _unit_rows(data.astype(np.float32), rows, n)
        words = sparse.csr_matrix((data, cols, indptr), shape=(n, width))
        # characters: tokens outside the vocabulary (and lexicon-only tokens) by their strings
        other = np.flatnonzero(~in_vocab)
        other_tokens: list[str] = []
        other_counts = None
        if self.chars and len(other):
            local: dict[str, int] = {}
            cols_o = np.fromiter((local.setdefault(flat[i], len(local)) for i in other),
                                 dtype=np.int64, count=len(other))
            other_tokens = list(local)
            other_counts = sparse.csr_matrix(
                (np.ones(len(other), dtype=np.float32), (doc_idx[other], cols_o)),
                shape=(n, len(local)))
        inv_root = (1.0 / np.sqrt(np.maximum(lengths, 1))).astype(np.float32)
        return BatchParts(words, vocab_counts, other_tokens, other_counts, inv_root,
                          self._lexicon_block(docs, lex, ids, doc_idx, lengths))

    def _other_chars(self, tokens: list[str]) -> sparse.csr_matrix:
        """n-gram rows of tokens outside the vocabulary, cached per token string."""
        cache = self.__dict__.setdefault("char_cache_", {})
        if len(cache) > 200_000:
            cache.clear()
        todo = [t for t in tokens if t not in cache]
        if todo:
            rows = self._char_rows(todo)
            for k, t in enumerate(todo):
                cache[t] = rows[k]
        return sparse.vstack([cache[t] for t in tokens], format="csr")

    def char_scores(self, parts: BatchParts, W: np.ndarray, W_vocab: np.ndarray) -> np.ndarray:
        """The character block's contribution ``chars @ W`` without building it: ``W_vocab`` is
        `word_chars_` @ W (one score vector per vocabulary token, computed once by the caller)."""
        scores = parts.vocab_counts @ W_vocab
        if parts.other_counts is not None:
            cache = self.__dict__.setdefault("char_score_cache_", {})
            if self.__dict__.get("char_score_key_") is not W or len(cache) > 200_000:
                cache.clear()
                self.char_score_key_ = W
            todo = [t for t in parts.other_tokens if t not in cache]
            if todo:
                got = np.asarray(self._other_chars(todo) @ W)
                for k, t in enumerate(todo):
                    cache[t] = got[k]
            scores = scores + parts.other_counts @ np.stack([cache[t] for t in parts.other_tokens])
        return scores * parts.inv_root[:, None]

    def _lexicon_block(self, docs, lex, ids, doc_idx, lengths) -> np.ndarray:
        """Valence sums, sarcasm, '?', '!', report language and log lexicon hits per label."""
        n = len(docs)
        known = ids >= 0
        kn = np.flatnonzero(known)
        counts = sparse.csr_matrix(
            (np.ones(len(kn), dtype=np.float32), ids[kn], np.searchsorted(doc_idx[kn], np.arange(n + 1))),
            shape=(n, lex["rows"].shape[0]))
        L = np.asarray(counts @ lex["rows"], dtype=np.float32)
        base = np.where(known, lex["base"][np.maximum(ids, 0)], -1)
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
        sarcastic = lex["sarcasm"]
        rptneg = np.bincount(doc_idx[ids == lex["table"]["rptneg"]], minlength=n)
        per_doc = np.array([[sarcastic(d), "?" in d.clean, "!" in d.clean] for d in docs],
                           dtype=np.float32).reshape(-1, 3)
        dense = np.column_stack([
            pos_ / root, neg_ / root, np.tanh((pos_ - neg_) / 4.0), per_doc, rptneg > 0,
            np.log1p(L[:, 5:]),
        ]).astype(np.float32)
        return dense * np.float32(self.lexicon_weight)

    @property
    def widths(self) -> tuple[int, int, int]:
        """Widths of the word, character and lexicon blocks of the feature matrix."""
        return (len(self.word_idf_) + len(self.bigram_idf_),
                len(self.char_idf_) if self.chars else 0, 7 + len(LABELS))


