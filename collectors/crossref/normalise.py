"""Pure conversion of Crossref REST API works into ArticleRecords."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

from radpulse.identifiers import canonical_article_url, normalise_doi
from radpulse.records import ArticleRecord, provenance

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def _text(value: str | None) -> str | None:
    """Text without JATS/HTML tags (Crossref titles and abstracts carry <jats:p>, <i>, ...)."""
    if not value:
        return None
    text = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", value))).strip()
    return re.sub(r"\s+([,.;:)])", r"\1", text) or None


def _first(values: Any) -> str | None:
    if isinstance(values, list):
        return next((v for v in values if isinstance(v, str) and v.strip()), None)
    return values if isinstance(values, str) else None


def date_parts(value: dict | None) -> dt.date | None:
    """A date from Crossref's {"date-parts": [[Y, M, D]]} (missing month/day -> 1)."""
    try:
        parts = (value or {})["date-parts"][0]
    except (KeyError, IndexError, TypeError):
        return None
    if not parts or parts[0] is None:
        return None
    try:
        return dt.date(int(parts[0]), int(parts[1]) if len(parts) > 1 else 1, int(parts[2]) if len(parts) > 2 else 1)
    except (TypeError, ValueError):
        return None


def _best_date(work: dict[str, Any]) -> dt.date | None:
    """The first full (year-month-day) date of online, print, published, issued; else any of them."""
    keys = ("published-online", "published-print", "published", "issued", "created")
    for key in keys:
        parts = ((work.get(key) or {}).get("date-parts") or [[]])[0] or []
        if len(parts) >= 3 and (d := date_parts(work.get(key))):
            return d
    return next((d for key in keys if (d := date_parts(work.get(key)))), None)


def work_to_article(work: dict[str, Any], *, endpoint: str, client: str, retrieved_at: dt.datetime) -> ArticleRecord:
    """One Crossref work (the `message` of /works/{doi}) as an ArticleRecord marked found."""
    doi = normalise_doi(work.get("DOI"))
    if doi is None:
        raise ValueError(f"Crossref work without a valid DOI: {work.get('DOI')!r}")
    authors = []
    for person in work.get("author") or []:
        name = " ".join(p for p in (person.get("given"), person.get("family")) if p) or person.get("name")
        if name:
            authors.append(name)
    published = _best_date(work)
    landing = ((work.get("resource") or {}).get("primary") or {}).get("URL")
    return ArticleRecord(
        doi=doi,
        url=canonical_article_url(landing) if landing else None,
        title=_text(_first(work.get("title"))),
        journal=_text(_first(work.get("container-title"))),
        issn=_first(work.get("ISSN")),
        authors=authors,
        abstract=_text(work.get("abstract")),
        published_date=published,
        source="crossref",
        crossref_status="found",
        raw=work,
        provenance=provenance(endpoint, client, retrieved_at),
    )
