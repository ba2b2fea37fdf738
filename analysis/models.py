"""The trained radiology models: sentiment, subspecialty and themes on one feature matrix.

`RadiologyModels` holds one fitted `PostFeatures` and three linear classifiers, fitted with
scikit-learn and then compiled into plain weight matrices (`LinearHead`), so that one batch
costs one sparse matrix product for all three tasks:

- sentiment (negative / neutral / positive): learns from the radiology posts and from general
  labelled texts of other domains (rated snippets, tweets, Reddit comments) with "frustratingly
  easy" domain adaptation (Daumé III, 2007): every feature has a shared copy and one copy per
  domain, each text fills the shared copy and its own domain's, so general sentiment helps
  without overriding radiology's conventions (informational posts are neutral, report language
  carries no stance). A prediction uses the shared weights plus one domain's: ``radiology`` for
  posts (the default), or another domain for texts of that kind (`predict_all(domain=...)`).
- subspecialty (11 classes) and themes (10, one-vs-rest, multi-label, one threshold): radiology
  posts only.

Extra dense features (for instance sentence embeddings, `radpulse.analysis.embed`) plug in
through `DenseFeatures`: give an object with ``name``, ``version``, ``dim`` and
``transform(docs) -> ndarray (n, dim)`` to ``RadiologyModels(dense=...)`` before fitting (its
columns are appended to the feature matrix, scaled by ``dense_weight``); pass the same kind of
object to `load_models(dense=...)`; the manifest records its name, version and width.

Files: ``data/models/radpulse-models.joblib`` and ``data/models/manifest.json`` (model hash,
training-data hash, code version, scikit-learn version, sha256 of the model file, split hashes,
training figures). `load_models` refuses, with a message saying what to do, a file whose sha256
does not match the manifest or that was trained with another scikit-learn version.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from scipy import sparse
from scipy.special import expit, softmax
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.svm import LinearSVC

from radpulse.analysis.data_files import data_bytes, digest
from radpulse.analysis.features import PostFeatures, as_docs
from radpulse.analysis.lexicon import GENERAL, SUBSPECIALTIES, THEMES
from radpulse.analysis.text import NormalisedText

#: bump when the code changes what a model trained on the same data predicts
CODE_VERSION = "3.0.0"
MODELS_DIR = Path(__file__).resolve().parent / "data" / "models"
MODEL_FILE = "radpulse-models.joblib"
MANIFEST_FILE = "manifest.json"
#: data files read at prediction time (lexicon features, hashtag segmentation)
LEXICON_FILES = ("sentiment_radiology.toml", "topic_lexicon.toml", "hashtag_words.txt")
SENTIMENT_LABELS = ("negative", "neutral", "positive")
SUBSPECIALTY_LABELS = SUBSPECIALTIES + (GENERAL,)
RADIOLOGY = "radiology"
TASKS = ("sentiment", "subspecialty", "themes")


class ModelFileError(RuntimeError):
    """The shipped model file is missing, altered, or from another scikit-learn version."""


@runtime_checkable
class DenseFeatures(Protocol):
    """Extra dense features appended to the n-gram and lexicon features.

    ``transform`` gets the batch's normalised posts and returns a float array of shape
    ``(len(docs), dim)``; it is called once per batch for all three tasks. The object is not
    stored in the model file (give it again to `load_models`); ``name``, ``version`` and
    ``dim`` are, and must match when loading.
    """

    name: str
    version: str
    dim: int

    def transform(self, docs: Sequence[NormalisedText]) -> np.ndarray: ...


def calibrated_svm(C: float, cv: int = 5) -> CalibratedClassifierCV:
    """A linear SVM with Platt-scaled probabilities (one SVM on all rows, sigmoid from CV)."""
    return CalibratedClassifierCV(LinearSVC(C=C, class_weight="balanced", random_state=0),
                                  method="sigmoid", cv=cv, ensemble=False)


def logistic(C: float) -> LogisticRegression:
    """Multinomial logistic regression (its probabilities need no calibration)."""
    return LogisticRegression(C=C, class_weight="balanced", max_iter=3000)


def domain_features(X, domains: np.ndarray, n_domains: int):
    """[shared | domain 0 | domain 1 | ...] copies of the features: a row fills the shared copy
    and its own domain's (Daumé III's feature augmentation)."""
    X = sparse.csr_matrix(X)
    blocks = [X] + [sparse.diags((domains == k).astype(X.dtype)) @ X for k in range(n_domains)]
    return sparse.hstack(blocks, format="csr")


@dataclass
class LinearHead:
    """Probabilities from linear scores ``X @ coef + intercept`` (the compiled classifier).

    ``kind``: ``softmax`` (multinomial logistic regression), ``platt`` (one sigmoid per class,
    then normalised, as scikit-learn's sigmoid calibration of a multiclass SVM) or ``ovr`` (one
    independent sigmoid per label: multi-label)."""

    classes: tuple[str, ...]
    coef: np.ndarray
    intercept: np.ndarray
    kind: str
    a: np.ndarray | None = None
    b: np.ndarray | None = None

    def proba(self, scores: np.ndarray) -> np.ndarray:
        """Probabilities of each class from the scores of this head's columns."""
        if self.kind == "softmax":
            return softmax(scores, axis=1)
        p = expit(-(self.a * scores + self.b))
        if self.kind == "ovr":
            return p
        total = p.sum(axis=1, keepdims=True)
        p = np.divide(p, total, out=np.full_like(p, 1.0 / p.shape[1]), where=total != 0)
        p[(1.0 < p) & (p <= 1.0 + 1e-5)] = 1.0
        return p


def _linear(est) -> tuple[np.ndarray, np.ndarray]:
    """(coef as features × classes, intercept) of a fitted LinearSVC / LogisticRegression."""
    return np.asarray(est.coef_, dtype=np.float64).T, np.asarray(est.intercept_, dtype=np.float64)


def compile_classifier(clf) -> LinearHead:
    """The `LinearHead` of a fitted multiclass classifier (calibrated SVM or logistic)."""
    classes = tuple(str(c) for c in clf.classes_)
    if isinstance(clf, LogisticRegression):
        coef, b0 = _linear(clf)
        if coef.shape[1] == 1:  # binary: softmax over (-f/2, f/2) equals the logistic
            coef, b0 = np.hstack([-coef / 2, coef / 2]), np.array([-b0[0] / 2, b0[0] / 2])
        return LinearHead(classes, coef, b0, "softmax")
    cc = clf.calibrated_classifiers_[0]
    coef, b0 = _linear(cc.estimator)
    if len(classes) != coef.shape[1]:
        raise ValueError("a binary calibrated classifier: use it inside the one-vs-rest themes")
    a = np.array([c.a_ for c in cc.calibrators], dtype=np.float64)
    b = np.array([c.b_ for c in cc.calibrators], dtype=np.float64)
    return LinearHead(classes, coef, b0, "platt", a, b)


def compile_ovr(ovr: OneVsRestClassifier, labels: Sequence[str]) -> LinearHead:
    """The `LinearHead` of fitted one-vs-rest calibrated SVMs (one column per label)."""
    cols, b0, a, b = [], [], [], []
    for est in ovr.estimators_:
        cc = est.calibrated_classifiers_[0]
        c, i = _linear(cc.estimator)
        cols.append(c[:, 0])
        b0.append(i[0])
        a.append(cc.calibrators[0].a_)
        b.append(cc.calibrators[0].b_)
    return LinearHead(tuple(labels), np.column_stack(cols), np.array(b0), "ovr", np.array(a), np.array(b))


class RadiologyModels:
    """Sentiment, subspecialty and theme classifiers over one shared feature extractor."""

    name = "radpulse-models"

    def __init__(self, features: PostFeatures | None = None, C_sentiment: float = 0.3,
                 C_subspecialty: float = 1.0, C_themes: float = 1.0, theme_threshold: float = 0.4,
                 sentiment_estimator: str = "svm", dense: DenseFeatures | None = None,
                 dense_weight: float = 1.0):
        self.features = features
        self.C_sentiment = C_sentiment
        self.C_subspecialty = C_subspecialty
        self.C_themes = C_themes
        self.theme_threshold = theme_threshold
        self.sentiment_estimator = sentiment_estimator
        self.dense = dense
        self.dense_weight = dense_weight
        self.version = CODE_VERSION

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, radiology: Sequence[str], sentiment: Sequence[str], subspecialty: Sequence[str],
            themes: Sequence[Sequence[str]],
            general: Mapping[str, tuple[Sequence[str], Sequence[str]]] | None = None,
            general_weight: Mapping[str, float] | float = 0.5) -> RadiologyModels:
        """Fit on radiology posts (all three tasks) plus general labelled texts (sentiment only).

        `general` maps a domain name to (texts, labels); the texts of a domain together weigh
        `general_weight[domain]` times the radiology posts (a domain at weight 0 is left out).
        """
        general = {d: v for d, v in (general or {}).items()
                   if len(v[0]) and _weight(general_weight, d) > 0}
        self.domains_ = (RADIOLOGY, *sorted(general))
        n = len(radiology)
        texts = list(radiology)
        labels = list(sentiment)
        dom = [0] * n
        weights = [1.0] * n
        for k, d in enumerate(self.domains_[1:], start=1):
            t, y = general[d]
            texts += list(t)
            labels += list(y)
            dom += [k] * len(t)
            weights += [_weight(general_weight, d) * n / len(t)] * len(t)
        docs = as_docs(texts)
        self.features_ = copy.deepcopy(self.features) if self.features is not None else PostFeatures()
        X = self._with_dense(self.features_.fit_transform(docs, priority=n), docs)
        d = np.asarray(dom)
        self.n_features_ = X.shape[1]
        self.dense_spec_ = None if self.dense is None else {
            "name": self.dense.name, "version": self.dense.version, "dim": int(self.dense.dim)}
        clf = (logistic(self.C_sentiment) if self.sentiment_estimator == "lr"
               else calibrated_svm(self.C_sentiment, cv=3))
        clf.fit(domain_features(X, d, len(self.domains_)), labels, sample_weight=np.asarray(weights))
        self.sentiment_heads_ = self._domain_heads(compile_classifier(clf))
        Xr = X[:n]
        sub = calibrated_svm(self.C_subspecialty).fit(Xr, list(subspecialty))
        self.subspecialty_head_ = compile_classifier(sub)
        mlb = MultiLabelBinarizer(classes=list(THEMES)).fit([[]])
        ovr = OneVsRestClassifier(calibrated_svm(self.C_themes)).fit(Xr, mlb.transform(themes))
        self.themes_head_ = compile_ovr(ovr, THEMES)
        self.__dict__.pop("stacked_", None)
        return self

    def _domain_heads(self, head: LinearHead) -> dict[str, LinearHead]:
        """One head per domain: the shared weights plus that domain's copy."""
        d = self.n_features_
        out = {}
        for k, name in enumerate(self.domains_):
            coef = head.coef[:d] + head.coef[d * (k + 1): d * (k + 2)]
            out[name] = LinearHead(head.classes, coef.astype(np.float32), head.intercept,
                                   head.kind, head.a, head.b)
        return out

    def _with_dense(self, X, docs: list[NormalisedText], dense: np.ndarray | None = None):
        provider = self.dense
        if provider is None and dense is None:
            return X
        if dense is None:
            dense = provider.transform(docs)
        dense = np.asarray(dense, dtype=np.float32).reshape(len(docs), -1)
        return sparse.hstack([X, sparse.csr_matrix(dense * np.float32(self.dense_weight))], format="csr")

    # -- prediction ---------------------------------------------------------------------------
    @property
    def sentiment_classes(self) -> tuple[str, ...]:
        """Sentiment classes in the column order of ``sentiment_proba``."""
        return self.sentiment_heads_[RADIOLOGY].classes

    @property
    def subspecialty_classes(self) -> tuple[str, ...]:
        """Subspecialty classes in the column order of ``subspecialty_proba``."""
        return self.subspecialty_head_.classes

    def transform(self, X, dense: np.ndarray | None = None):
        """The shared feature matrix (with the dense features when the models have them)."""
        docs = as_docs(X)
        return self._with_dense(self.features_.transform(docs), docs, dense)

    def _stack(self, domain: str) -> dict:
        """All heads' weights side by side (one product per block and batch), cached per domain;
        the character weights folded into one score vector per vocabulary token."""
        cache = self.__dict__.setdefault("stacked_", {})
        if domain not in cache:
            heads = [self.sentiment_heads_[domain], self.subspecialty_head_, self.themes_head_]
            W = np.hstack([h.coef for h in heads]).astype(np.float32)
            edges = np.cumsum([0] + [h.coef.shape[1] for h in heads])
            nw, nc, nl = self.features_.widths
            Wc = np.ascontiguousarray(W[nw:nw + nc])
            cache[domain] = {
                "words": np.ascontiguousarray(W[:nw]), "chars": Wc,
                "chars_vocab": np.asarray(self.features_.word_chars_ @ Wc) if nc else None,
                "lexicon": np.ascontiguousarray(W[nw + nc:nw + nc + nl]),
                "dense": np.ascontiguousarray(W[nw + nc + nl:]),
                "b": np.concatenate([h.intercept for h in heads]).astype(np.float32),
                "heads": [(h, slice(edges[i], edges[i + 1])) for i, h in enumerate(heads)]}
        return cache[domain]

    def scores(self, docs: list[NormalisedText], domain: str = RADIOLOGY,
               dense: np.ndarray | None = None) -> tuple[np.ndarray, list]:
        """Linear scores of every head for a batch, block by block (equal to
        ``transform(docs) @ W + b`` without building the character block)."""
        st = self._stack(domain)
        f = self.features_
        parts = f.parts(docs)
        s = parts.words @ st["words"] + parts.lexicon @ st["lexicon"] + st["b"]
        if st["chars_vocab"] is not None:
            s += f.char_scores(parts, st["chars"], st["chars_vocab"])
        if self.dense is not None or dense is not None:
            if dense is None:
                dense = self.dense.transform(docs)
            s += (np.asarray(dense, dtype=np.float32).reshape(len(docs), -1)
                  * np.float32(self.dense_weight)) @ st["dense"]
        return np.asarray(s), st["heads"]

    def predict_all(self, X: Sequence[str | NormalisedText], domain: str = RADIOLOGY,
                    dense: np.ndarray | None = None) -> dict[str, object]:
        """Labels and probabilities of every task for a batch (features computed once).

        `domain` picks the sentiment weights (``radiology`` for posts; another training domain
        such as ``tweets`` for general texts of that kind); `dense` gives precomputed dense
        features (else the models' `DenseFeatures` computes them)."""
        docs = as_docs(X)
        if domain not in self.sentiment_heads_:
            raise ValueError(f"unknown domain {domain!r}; the models know {', '.join(self.domains_)}")
        if not docs:
            return {"sentiment": [], "sentiment_proba": np.zeros((0, 3)), "subspecialty": [],
                    "subspecialty_proba": np.zeros((0, len(SUBSPECIALTY_LABELS))), "themes": [],
                    "themes_proba": np.zeros((0, len(THEMES)))}
        scores, heads = self.scores(docs, domain, dense)
        (sh, ss), (bh, bs), (th, ts) = heads
        sp, bp, tp = sh.proba(scores[:, ss]), bh.proba(scores[:, bs]), th.proba(scores[:, ts])
        hits = tp >= self.theme_threshold
        return {
            "sentiment": [sh.classes[i] for i in sp.argmax(axis=1)], "sentiment_proba": sp,
            "subspecialty": [bh.classes[i] for i in bp.argmax(axis=1)], "subspecialty_proba": bp,
            "themes": [[THEMES[j] for j in np.flatnonzero(row)] for row in hits],
            "themes_proba": tp,
        }

    # -- versions, lexicons, pickling ---------------------------------------------------------
    @property
    def version_tag(self) -> str:
        """Code version, model hash and lexicon-files digest, e.g. '3.0.0.1a2b3c4d.5e6f7a8b'."""
        paths = (getattr(self.features_, "sentiment_lexicon_path", None),
                 getattr(self.features_, "topic_lexicon_path", None))
        lex = lexicon_hash() if paths == (None, None) else digest(
            [data_bytes(LEXICON_FILES[0], paths[0]), data_bytes(LEXICON_FILES[1], paths[1]),
             data_bytes(LEXICON_FILES[2])])
        return f"{self.version}.{getattr(self, 'model_hash', 'unsaved')[:8]}.{lex}"

    def with_lexicons(self, sentiment_path: str | None = None,
                      topic_path: str | None = None) -> RadiologyModels:
        """The same models reading a society's own sentiment and/or topic lexicon files."""
        twin = copy.copy(self)
        twin.features_ = copy.copy(self.features_)
        twin.features_.__dict__.pop("lex_", None)
        twin.features_.sentiment_lexicon_path = sentiment_path
        twin.features_.topic_lexicon_path = topic_path
        return twin

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("stacked_", None)
        state["dense"] = None  # not stored: given again to `load_models`
        return state

    @property
    def dense_spec(self) -> dict | None:
        """Name, version and width of the dense features the models were trained with."""
        return getattr(self, "dense_spec_", None)


def _weight(weights: Mapping[str, float] | float, domain: str) -> float:
    return float(weights.get(domain, 0.0)) if isinstance(weights, Mapping) else float(weights)


@lru_cache(maxsize=1)
def lexicon_hash() -> str:
    """Digest of the editable data files the features read (they change predictions)."""
    return digest([data_bytes(name) for name in LEXICON_FILES])


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_models(models: RadiologyModels, manifest: dict, directory: Path = MODELS_DIR) -> dict:
    """Write the model file and its manifest (with the file's sha256); returns the manifest."""
    import joblib
    import sklearn

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MODEL_FILE
    joblib.dump(models, path, compress=3)
    manifest = {**manifest, "sklearn_version": sklearn.__version__, "code_version": CODE_VERSION,
                "file": MODEL_FILE, "file_sha256": sha256_file(path)}
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def read_manifest(directory: Path = MODELS_DIR) -> dict:
    """The manifest of the shipped models."""
    path = directory / MANIFEST_FILE
    if not path.exists():
        raise ModelFileError(f"No trained models in {directory}: {MANIFEST_FILE} is missing. "
                             "Train them with `python -m radpulse.analysis.train`.")
    return json.loads(path.read_text(encoding="utf-8"))


def load_models(directory: Path = MODELS_DIR, dense: DenseFeatures | None = None) -> RadiologyModels:
    """Load the models after checking the file's sha256 and the scikit-learn version (and, for
    models trained with dense features, that `dense` is the same kind of features)."""
    import joblib
    import sklearn

    manifest = read_manifest(directory)
    path = directory / manifest["file"]
    if not path.exists():
        raise ModelFileError(f"The model file {path} is missing. Reinstall radpulse or train the "
                             "models with `python -m radpulse.analysis.train`.")
    if sha256_file(path) != manifest["file_sha256"]:
        raise ModelFileError(f"The model file {path} does not match its manifest (sha256 differs): "
                             "it was altered or partly written. Retrain with "
                             "`python -m radpulse.analysis.train` or reinstall radpulse.")
    if manifest["sklearn_version"] != sklearn.__version__:
        raise ModelFileError(
            f"The models in {directory} were trained with scikit-learn "
            f"{manifest['sklearn_version']} but {sklearn.__version__} is installed; a model "
            "pickled by one version can predict differently under another. Install "
            f"scikit-learn=={manifest['sklearn_version']} or retrain with "
            "`python -m radpulse.analysis.train`.")
    spec = manifest.get("dense")
    if spec is not None:
        given = None if dense is None else {"name": dense.name, "version": dense.version, "dim": dense.dim}
        if given != spec:
            raise ModelFileError(
                f"The models in {directory} were trained with dense features {spec} and need the "
                f"same ones to predict (given: {given}).")
    models = joblib.load(path)
    models.model_hash = manifest["model_hash"]
    models.dense = dense if spec is not None else None
    return models


@lru_cache(maxsize=1)
def default_models() -> RadiologyModels:
    """The shipped models, loaded once per process."""
    return load_models()
