"""The curated radiology lexicon: terms and hashtags per taxonomy label, read from a data file.

`data/topic_lexicon.toml` is the society-editable half of the topic classifier. Terms are
matched as whole lower-case word sequences on normalised tokens (so segmented hashtags match
too); hashtags are matched on the post's hashtag list. `Lexicon.match` says which terms fired,
which is how a label is explained to a reader.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from radpulse.analysis.data_files import data_bytes, digest
from radpulse.analysis.text import NormalisedText, tokenize

SUBSPECIALTIES = (
    "neuro", "msk", "chest", "cardiac", "abdominal", "breast", "pediatric", "ir", "nuclear",
    "emergency",
)
GENERAL = "general"
THEMES = (
    "ai", "education", "careers_training", "workforce_wellbeing", "research_publication",
    "conferences_events", "patient_safety_quality", "policy_economics", "technology_equipment",
    "patient_public",
)
LABELS = SUBSPECIALTIES + THEMES


@dataclass(frozen=True)
class Lexicon:
    """Term and hashtag tables for every label of the taxonomy."""

    labels: tuple[str, ...]
    terms: dict[tuple[str, ...], tuple[int, ...]]
    hashtags: dict[str, tuple[int, ...]]
    max_n: int
    #: first words of the multi-word terms (only these start an n-gram look-up)
    starts: frozenset[str] = frozenset()
    #: one-word terms by the word itself (the common case, without building tuples)
    words: dict[str, tuple[int, ...]] | None = None
    #: content hash of the file it was read from ("" when built from a dict)
    digest: str = ""

    @classmethod
    def load(cls, path: str | Path | None = None) -> Lexicon:
        """Read the packaged lexicon, or the TOML file at `path` (same shape)."""
        raw = data_bytes("topic_lexicon.toml", path)
        return cls.from_dict(tomllib.loads(raw.decode("utf-8")), digest=digest([raw]))

    @classmethod
    def from_dict(cls, data: dict, *, digest: str = "") -> Lexicon:
        """Build from {"subspecialty": {label: {terms, hashtags}}, "theme": {...}}."""
        sections = {**data.get("subspecialty", {}), **data.get("theme", {})}
        unknown = set(sections) - set(LABELS)
        if unknown:
            raise ValueError(f"unknown labels in the topic lexicon: {sorted(unknown)}")
        terms: dict[tuple[str, ...], set[int]] = defaultdict(set)
        tags: dict[str, set[int]] = defaultdict(set)
        for i, label in enumerate(LABELS):
            entry = sections.get(label, {})
            for term in [*entry.get("terms", []), *entry.get("translations", [])]:
                key = tuple(tokenize(term))
                if key:
                    terms[key].add(i)
            for tag in entry.get("hashtags", []):
                tags[tag.lower().lstrip("#")].add(i)
        max_n = max((len(k) for k in terms), default=1)
        return cls(
            LABELS,
            {k: tuple(sorted(v)) for k, v in terms.items()},
            {k: tuple(sorted(v)) for k, v in tags.items()},
            max_n,
            frozenset(k[0] for k in terms if len(k) > 1),
            {k[0]: tuple(sorted(v)) for k, v in terms.items() if len(k) == 1},
            digest,
        )

    def counts(self, doc: NormalisedText) -> list[int]:
        """Number of lexicon hits per label (index order of `labels`)."""
        out = [0] * len(self.labels)
        terms = self.terms
        starts = self.starts
        words = self.words or {}
        toks = doc.tokens
        n = len(toks)
        for i, tok in enumerate(toks):
            hit = words.get(tok)
            if hit:
                for j in hit:
                    out[j] += 1
            if tok in starts:
                for k in range(2, min(self.max_n, n - i) + 1):
                    hit = terms.get(tuple(toks[i : i + k]))
                    if hit:
                        for j in hit:
                            out[j] += 1
        for tag in doc.hashtags:
            hit = self.hashtags.get(tag)
            if hit:
                for j in hit:
                    out[j] += 1
        return out

    def match(self, doc: NormalisedText) -> dict[str, list[str]]:
        """Which terms and #hashtags fired, per label (for explanations and review)."""
        found: dict[str, list[str]] = defaultdict(list)
        toks = doc.tokens
        for i in range(len(toks)):
            for k in range(1, min(self.max_n, len(toks) - i) + 1):
                key = tuple(toks[i : i + k])
                for j in self.terms.get(key, ()):
                    found[self.labels[j]].append(" ".join(key))
        for tag in doc.hashtags:
            for j in self.hashtags.get(tag, ()):
                found[self.labels[j]].append("#" + tag)
        return dict(found)
