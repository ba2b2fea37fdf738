"""The full annotation of posts: normalise once, then sentiment, topics and flags, in batches.

`Annotator` bundles the models (built with their defaults when not given, as BERTopic builds
its sub-models) and is what both `radpulse analyze` (database) and `radpulse annotate` (files)
run. Sentiment, subspecialty and themes come from the trained models shipped in
``data/models/`` (`radpulse.analysis.models`; their features include the editable lexicons);
flags and author types from their rule-based models. Its `version` joins the versions of the
models it holds, so a retrained model, an edited lexicon or a bumped flag version makes every
post annotated by the old combination due again. A model's version is its code version plus
a hash of the data it was built from (for the trained models: the model hash and a digest of
the lexicon files they read), plus the digest of the text normalisation's data.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from radpulse.analysis.authors import AuthorTypeClassifier, Profile, default_author_classifier
from radpulse.analysis.data_files import data_bytes, digest, versioned
from radpulse.analysis.flags import FlagDetector
from radpulse.analysis.lexicon import GENERAL
from radpulse.analysis.models import RadiologyModels, default_models
from radpulse.analysis.text import normalise

#: `Annotation.model_name` of the rows the annotator writes
ANNOTATOR_NAME = "radpulse-annotator"
#: a second subspecialty is listed when the model gives it at least this probability
SECOND_SUBSPECIALTY = 0.3
#: longer texts are analysed on their first MAX_CHARS characters (Reddit's own post limit)
MAX_CHARS = 40_000


def model_version(model: Any) -> str:
    """A model's version: `version` (its code), plus the digest of its data once fitted."""
    return versioned(model.version, getattr(model, "data_digest_", None))


@functools.cache
def normalisation_digest() -> str:
    """Hash of the data the text normalisation reads (the hashtag segmentation words)."""
    return digest([data_bytes("hashtag_words.txt")])


@dataclass(slots=True)
class PostAnnotation:
    """What the annotator says about one post (the fields of `radpulse annotate` output)."""

    id: Any
    sentiment: str
    sentiment_score: float
    subspecialty: str
    subspecialties: list[str]
    themes: list[str]
    flags: list[str]
    language: str
    flag_reasons: dict[str, list[str]] = field(default_factory=dict)
    truncated: bool = False

    def to_record(self) -> dict[str, Any]:
        """The JSON Lines record (reasons and truncation only when present)."""
        rec = asdict(self)
        if not rec["flag_reasons"]:
            del rec["flag_reasons"]
        if not rec["truncated"]:
            del rec["truncated"]
        return rec


class Annotator:
    """Sentiment, topics and flags for batches of posts, with one combined version."""

    name = ANNOTATOR_NAME

    def __init__(
        self,
        models: RadiologyModels | None = None,
        flags: FlagDetector | None = None,
        authors: AuthorTypeClassifier | None = None,
    ):
        self.trained = models if models is not None else default_models()
        self.flags = flags if flags is not None else FlagDetector().fit()
        self.authors = authors if authors is not None else default_author_classifier()
        self._author_cache: dict[tuple[str, str, str], str] = {}

    @property
    def version(self) -> str:
        """Combined version of trained models+flags+text normalisation, e.g.
        '2.0.0.9d9b27e9.5e6f7a8b+1.0.0+c0ffee12' (at most 50 characters)."""
        return f"{self.trained.version_tag}+{model_version(self.flags)}+{normalisation_digest()}"

    @property
    def author_model(self) -> str:
        """What `Author.author_type_model` records, e.g. 'radpulse-authors@1.0.0.5d41402a'."""
        return f"{self.authors.name}@{model_version(self.authors)}"

    def models(self) -> dict[str, str]:
        """Name → version of every model used (stored in `Annotation.extra`)."""
        return {self.trained.name: self.trained.version_tag, self.flags.name: model_version(self.flags)}

    def annotate(
        self,
        texts: Sequence[str | None],
        ids: Sequence[Any] | None = None,
        has_media: Sequence[bool] | None = None,
    ) -> list[PostAnnotation]:
        """Annotate one batch of post texts."""
        truncated = [bool(t) and len(t) > MAX_CHARS for t in texts]
        docs = [normalise(t[:MAX_CHARS] if cut else t) for t, cut in zip(texts, truncated)]
        pred = self.trained.predict_all(docs)
        # score in [-1, 1]: P(positive) - P(negative) of the calibrated sentiment model
        classes = list(self.trained.sentiment_classes)
        proba = pred["sentiment_proba"]
        scores = (proba[:, classes.index("positive")] - proba[:, classes.index("negative")]).tolist() \
            if len(docs) else []
        sub_classes = list(self.trained.subspecialty_classes)
        out = []
        for i, doc in enumerate(docs):
            reasons = self.flags.explain(doc, bool(has_media[i]) if has_media else False)
            best = pred["subspecialty"][i]
            row = pred["subspecialty_proba"][i]
            others = [sub_classes[j] for j in row.argsort()[::-1]
                      if row[j] >= SECOND_SUBSPECIALTY and sub_classes[j] not in (best, GENERAL)]
            out.append(
                PostAnnotation(
                    id=ids[i] if ids is not None else i,
                    sentiment=pred["sentiment"][i],
                    sentiment_score=round(scores[i], 4),
                    subspecialty=best,
                    subspecialties=[best, *others],
                    themes=pred["themes"][i],
                    flags=list(reasons),
                    language=doc.language,
                    flag_reasons=reasons,
                    truncated=truncated[i],
                )
            )
        return out

    def author_types(self, profiles: Sequence[tuple[str, str, str]]) -> list[str]:
        """Author type of each (handle, display_name, bio); cached, as accounts post many times."""
        cache = self._author_cache
        todo = list({p for p in profiles if p not in cache})
        if todo:
            if len(cache) + len(todo) > 200_000:
                cache.clear()
            found = self.authors.predict([Profile(*p) for p in todo])
            cache.update(zip(todo, (str(t) for t in found)))
        return [cache[p] for p in profiles]

    def author_type(self, handle: str, display_name: str, bio: str) -> str:
        """Author type of one profile."""
        return self.author_types([(handle or "", display_name or "", bio or "")])[0]
