"""Author types from handle, display name and bio: transparent rules first, then a model.

Types: radiologist, trainee, radiographer (radiographers and technologists), other_clinician,
organisation (society, journal, department), industry (vendors), patient_public, unknown.
Rules (``data/author_rules.toml``) are high-precision regular expressions checked in a fixed
order; profiles no rule recognises go to a character n-gram logistic regression trained on
``data/authors_train.tsv``, which answers only when confident, else ``unknown``.
"""

from __future__ import annotations

import csv
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from radpulse.analysis.data_files import data_bytes, data_text, digest, load_toml
from radpulse.analysis.text import strip_html

AUTHOR_TYPES = (
    "radiologist", "trainee", "radiographer", "other_clinician", "organisation", "industry",
    "patient_public", "unknown",
)


@dataclass(frozen=True, slots=True)
class Profile:
    """What we know about an account."""

    handle: str = ""
    display_name: str = ""
    bio: str = ""

    def text(self) -> str:
        """One string for the rules and the model."""
        handle = re.sub(r"[_.\-]+", " ", self.handle or "")
        return f"{handle} | {self.display_name or ''} | {strip_html(self.bio or '')}"


def _as_profile(x: Profile | Sequence[str] | dict) -> Profile:
    if isinstance(x, Profile):
        return x
    if isinstance(x, dict):
        return Profile(x.get("handle") or "", x.get("display_name") or "", x.get("bio") or "")
    return Profile(*[v or "" for v in x])


def load_rules(path: str | None = None) -> dict:
    """Read the author rules file (packaged unless `path` is given)."""
    return load_toml("author_rules.toml", path)


class AuthorTypeClassifier(BaseEstimator, ClassifierMixin):
    """Rules + character n-gram logistic regression over author profiles."""

    name = "radpulse-authors"
    version = "1.0.0"

    def __init__(
        self,
        rules_path: str | None = None,
        use_rules: bool = True,
        use_model: bool = True,
        min_proba: float = 0.35,
        C: float = 10.0,
    ):
        self.rules_path = rules_path
        self.use_rules = use_rules
        self.use_model = use_model
        self.min_proba = min_proba
        self.C = C

    def fit(self, X: Iterable, y: Iterable[str]) -> AuthorTypeClassifier:
        """Learn from profiles (Profile, (handle, name, bio) or dicts) and their types; returns self."""
        raw = data_bytes("author_rules.toml", self.rules_path)
        rules = tomllib.loads(raw.decode("utf-8"))
        self.rule_order_ = list(rules["order"])
        self.rules_ = {
            t: re.compile("|".join(f"(?:{p})" for p in rules["patterns"][t]), re.IGNORECASE)
            for t in self.rule_order_
        }
        texts = [_as_profile(p).text() for p in X]
        labels = list(y)
        # the version's data half: the rules file and the training set
        self.data_digest_ = digest([raw, *(f"{t}\t{lab}" for t, lab in zip(texts, labels))])
        self.vectorizer_ = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, lowercase=True, min_df=1
        )
        features = self.vectorizer_.fit_transform(texts)
        self.model_ = LogisticRegression(C=self.C, max_iter=2000).fit(features, labels)
        self.classes_ = np.array(AUTHOR_TYPES)
        return self

    def rule_type(self, profile) -> str | None:
        """The first type whose rules match, or None."""
        text = _as_profile(profile).text()
        for t in self.rule_order_:
            if self.rules_[t].search(text):
                return t
        return None

    def predict(self, X: Iterable) -> np.ndarray:
        """Author type of each profile."""
        profiles = [_as_profile(p) for p in X]
        out: list[str | None] = [None] * len(profiles)
        if self.use_rules:
            out = [self.rule_type(p) for p in profiles]
        todo = [i for i, t in enumerate(out) if t is None]
        pending = set(todo)
        texts = [profiles[i].text() for i in todo]
        if todo and self.use_model:
            probs = self.model_.predict_proba(self.vectorizer_.transform(texts))
            for i, row in zip(todo, probs):
                j = int(np.argmax(row))
                out[i] = self.model_.classes_[j] if row[j] >= self.min_proba else "unknown"
        # nothing recognisable and no bio: the model would only be guessing from the handle
        for i, p in enumerate(profiles):
            if out[i] is None or (i in pending and not re.search(r"[^\W\d_]{3,}", p.bio or "")):
                out[i] = "unknown"
        return np.array(out)


def read_authors(name: str) -> tuple[list[Profile], list[str]]:
    """Profiles and labels from a packaged ``label<TAB>handle<TAB>name<TAB>bio`` file."""
    raw = data_text(name)
    profiles, labels = [], []
    for row in csv.reader(raw.splitlines()[1:], delimiter="\t", quoting=csv.QUOTE_NONE):
        row = row + [""] * (4 - len(row))
        labels.append(row[0])
        profiles.append(Profile(row[1], row[2], row[3]))
    return profiles, labels


@lru_cache(maxsize=1)
def default_author_classifier() -> AuthorTypeClassifier:
    """The shipped model: rules + model trained once per process on data/authors_train.tsv."""
    X, y = read_authors("authors_train.tsv")
    return AuthorTypeClassifier().fit(X, y)
