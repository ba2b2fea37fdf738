"""The trained radiology models: sentiment, subspecialty and themes on shared features.

`RadiologyModels` holds one fitted `PostFeatures` and three calibrated linear SVMs
(`CalibratedClassifierCV(LinearSVC)`): sentiment (3 classes), subspecialty (11 classes,
multiclass) and themes (one-vs-rest, multi-label, one probability threshold). Sentiment learns
from radiology posts and general rated texts with "frustratingly easy" domain adaptation
(Daumé III, 2007): every feature has a shared copy and a radiology copy, general texts fill only
the shared one, so general sentiment helps without overriding radiology's conventions
(informational posts are neutral, report language carries no stance). Features are
computed once per post for all three; `pipeline(task)` gives each task as an ordinary
scikit-learn `Pipeline` sharing the fitted features.

Files: ``data/models/radpulse-models.joblib`` and ``data/models/manifest.json`` (model hash,
training-data hash, code version, scikit-learn version, sha256 of the model file, split hashes,
training figures). `load_models` refuses, with a message saying what to do, a file whose sha256
does not match the manifest or that was trained with another scikit-learn version: unpickling
across versions can silently change predictions.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.svm import LinearSVC

from radpulse.analysis.data_files import data_bytes, digest
from radpulse.analysis.features import PostFeatures, as_docs
from radpulse.analysis.lexicon import GENERAL, SUBSPECIALTIES, THEMES
from radpulse.analysis.text import NormalisedText

#: bump when the code changes what a model trained on the same data predicts
CODE_VERSION = "2.0.0"
MODELS_DIR = Path(__file__).resolve().parent / "data" / "models"
MODEL_FILE = "radpulse-models.joblib"
MANIFEST_FILE = "manifest.json"
#: data files read at prediction time (lexicon features, hashtag segmentation)
LEXICON_FILES = ("sentiment_radiology.toml", "topic_lexicon.toml", "hashtag_words.txt")
SENTIMENT_LABELS = ("negative", "neutral", "positive")
SUBSPECIALTY_LABELS = SUBSPECIALTIES + (GENERAL,)


class ModelFileError(RuntimeError):
    """The shipped model file is missing, altered, or from another scikit-learn version."""


def _svm(C: float) -> CalibratedClassifierCV:
    return CalibratedClassifierCV(LinearSVC(C=C, class_weight="balanced", random_state=0),
                                  method="sigmoid", cv=5, ensemble=False)


def domain_features(X, n_radiology: int):
    """[shared | radiology] copies of the features; rows from `n_radiology` on are general."""
    rad = X[:n_radiology]
    gen = sparse.csr_matrix((X.shape[0] - n_radiology, X.shape[1]), dtype=X.dtype)
    return sparse.hstack([X, sparse.vstack([rad, gen])], format="csr")


class RadiologyModels:
    """Sentiment, subspecialty and theme classifiers over one shared feature extractor."""

    name = "radpulse-models"

    def __init__(self, features: PostFeatures | None = None, C_sentiment: float = 0.3,
                 C_subspecialty: float = 0.3, C_themes: float = 0.3, theme_threshold: float = 0.4):
        self.features = features
        self.C_sentiment = C_sentiment
        self.C_subspecialty = C_subspecialty
        self.C_themes = C_themes
        self.theme_threshold = theme_threshold
        self.version = CODE_VERSION

    def fit(self, radiology: Sequence[str], sentiment: Sequence[str], subspecialty: Sequence[str],
            themes: Sequence[Sequence[str]], general: Sequence[str] = (),
            general_sentiment: Sequence[str] = (), general_weight: float = 0.5) -> RadiologyModels:
        """Fit on radiology posts (all three tasks) plus general rated texts (sentiment only).

        The general texts together weigh `general_weight` times the radiology posts.
        """
        docs = as_docs(list(radiology) + list(general))
        n = len(radiology)
        self.features_ = self.features if self.features is not None else PostFeatures()
        X = self.features_.fit_transform(docs)
        w = np.ones(len(docs))
        if len(general):
            w[n:] = general_weight * n / len(general)
        self.sentiment_ = _svm(self.C_sentiment).fit(
            domain_features(X, n), list(sentiment) + list(general_sentiment), sample_weight=w)
        Xr = X[:n]
        self.subspecialty_ = _svm(self.C_subspecialty).fit(Xr, list(subspecialty))
        self.binarizer_ = MultiLabelBinarizer(classes=list(THEMES)).fit([[]])
        self.themes_ = OneVsRestClassifier(_svm(self.C_themes)).fit(
            Xr, self.binarizer_.transform(themes))
        return self

    # -- prediction ---------------------------------------------------------------------------
    def transform(self, X) -> object:
        """The shared feature matrix."""
        return self.features_.transform(as_docs(X))

    def predict_all(self, X: Sequence[str | NormalisedText]) -> dict[str, object]:
        """Labels and probabilities of every task for a batch (features computed once)."""
        docs = as_docs(X)
        if not docs:
            return {"sentiment": [], "sentiment_proba": np.zeros((0, 3)), "subspecialty": [],
                    "subspecialty_proba": np.zeros((0, 11)), "themes": [],
                    "themes_proba": np.zeros((0, len(THEMES)))}
        F = self.features_.transform(docs)
        sp = self.sentiment_.predict_proba(domain_features(F, F.shape[0]))
        bp = self.subspecialty_.predict_proba(F)
        tp = self.themes_.predict_proba(F)
        s_cls, b_cls = self.sentiment_.classes_, self.subspecialty_.classes_
        hits = tp >= self.theme_threshold
        return {
            "sentiment": [str(s_cls[i]) for i in sp.argmax(axis=1)], "sentiment_proba": sp,
            "subspecialty": [str(b_cls[i]) for i in bp.argmax(axis=1)], "subspecialty_proba": bp,
            "themes": [[THEMES[j] for j in np.flatnonzero(row)] for row in hits],
            "themes_proba": tp,
        }

    @property
    def version_tag(self) -> str:
        """Code version, model hash and lexicon-files digest, e.g. '2.0.0.1a2b3c4d.5e6f7a8b'."""
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
        for attr in ("sentiment_", "lexicon_", "valences_"):
            twin.features_.__dict__.pop(attr, None)
        twin.features_.sentiment_lexicon_path = sentiment_path
        twin.features_.topic_lexicon_path = topic_path
        return twin

    def pipeline(self, task: str) -> Pipeline:
        """One task as a fitted scikit-learn Pipeline (features, classifier)."""
        clf = {"sentiment": self.sentiment_, "subspecialty": self.subspecialty_,
               "themes": self.themes_}[task]
        return Pipeline([("features", self.features_), ("classifier", clf)])


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


def load_models(directory: Path = MODELS_DIR) -> RadiologyModels:
    """Load the models after checking the file's sha256 and the scikit-learn version."""
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
    models = joblib.load(path)
    models.model_hash = manifest["model_hash"]
    return models


@lru_cache(maxsize=1)
def default_models() -> RadiologyModels:
    """The shipped models, loaded once per process."""
    return load_models()
