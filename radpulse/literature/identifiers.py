"""Normalising scholarly identifiers: DOI, PMID, PMC id and canonical URLs."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

_DOI_PREFIXES = re.compile(
    r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/|(?:dx\.)?doi\.org/|info:doi/|urn:doi:)",
    re.IGNORECASE,
)
_DOI_SHAPE = re.compile(r"^10\.\d{4,9}/\S+$")
_TRACKING = re.compile(r"^(utm_|fbclid$|gclid$|mc_|ref$|cookieset$|cookieSet$|src$|rss$)", re.I)


def normalise_doi(value: str | None) -> str | None:
    """A DOI in canonical form (lower case, no prefix, URL-decoded), or None if not a DOI."""
    if not value:
        return None
    doi = unquote(value.strip())
    doi = _DOI_PREFIXES.sub("", doi).strip()
    doi = doi.rstrip(".,;:)]}>\"'")
    doi = doi.lower()
    return doi if _DOI_SHAPE.match(doi) else None


def normalise_pmid(value: str | int | None) -> str | None:
    """A PMID as a string of digits without leading zeros, or None."""
    if value is None:
        return None
    digits = re.sub(r"^(?:pmid:?\s*)", "", str(value).strip(), flags=re.I)
    return str(int(digits)) if digits.isdigit() and int(digits) > 0 else None


def normalise_pmcid(value: str | None) -> str | None:
    """A PMC id as 'PMC' + digits, or None."""
    if not value:
        return None
    m = re.fullmatch(r"(?:pmc)?\s*(\d+)", value.strip(), flags=re.I)
    return f"PMC{m.group(1)}" if m else None


def canonical_url(url: str | None) -> str | None:
    """The URL without fragment and tracking parameters, host lower-cased, https preferred.

    Query strings are dropped entirely except for parameters that identify content on
    known feed-style URLs; journals regenerate link tokens on every fetch, so the query is
    never part of an article's identity.
    """
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.lower()
    if host.startswith("www."):
        host = host[4:]
    path = parts.path.rstrip("/") or "/"
    kept = [(k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k)]
    # identity never includes the query: drop it (kept list computed for callers that want it)
    del kept
    return urlunsplit(("https", host, path, "", ""))


def article_key(*, doi: str | None = None, pmid: str | None = None, url: str | None = None) -> str:
    """'doi:<doi>', else 'pmid:<pmid>', else 'url:<canonical url>'."""
    if d := normalise_doi(doi):
        return f"doi:{d}"
    if p := normalise_pmid(pmid):
        return f"pmid:{p}"
    if u := canonical_url(url):
        return f"url:{u}"
    raise ValueError("an article needs a DOI, a PMID or a URL")


__all__ = [
    "article_key",
    "canonical_url",
    "normalise_doi",
    "normalise_pmcid",
    "normalise_pmid",
    "urlencode",
]
