"""Normalising scholarly identifiers: DOI, PMID, PMC id, Elsevier PII and canonical URLs.

Part of the bottom layer: it imports only the standard library, and the records, the store,
the collectors and the literature linker all import it (never the other way round).

Every path into the database (feeds, PubMed, Crossref, mentions in posts) goes through these
functions, so one paper written `doi:10.1148/RADIOL.2021`, `https://doi.org/10.1148/radiol.2021`
or `10.1148%2Fradiol.2021` ends up under one key.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import unquote, urlsplit

_DOI_PREFIXES = re.compile(
    r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/|(?:dx\.)?doi\.org/|info:doi/|urn:doi:)",
    re.IGNORECASE,
)
_DOI_SHAPE = re.compile(r"^10\.\d{4,9}/\S+$")
#: a DOI inside a longer string (URL path, GUID, free text); the suffix stops at whitespace,
#: quotes and angle brackets (DOIs may contain parentheses, but trailing punctuation is trimmed)
DOI_IN_TEXT = re.compile(r"\b(10\.\d{4,9}/[^\s\"'<>\]\[{}|\\^`]+)", re.IGNORECASE)
_TRAILING = ".,;:)]}>\"'!?*"
#: Elsevier's publisher item identifier: S + ISSN (8 chars) + 2-digit year + 5 digits + check
_PII = re.compile(r"(?:(?<=PII)|(?<=pii)|\b)(S\d{4}-?\d{3}[\dX]\(?\d{2}\)?\d{5}-?[\dX])", re.IGNORECASE)
#: platforms that serve Elsevier articles under /article/<PII>/... or /science/article/pii/<PII>
ELSEVIER_HOSTS = (
    "sciencedirect.com", "jacr.org", "academicradiology.org", "jvir.org", "ejradiology.com",
    "clinicalradiologyonline.net", "thelancet.com", "cell.com", "jpeds.com", "theclinics.com",
    "elsevier.com", "clinicalimaging.org",
)


def _balance_parens(doi: str) -> str:
    """Drop a trailing ')' that closes a parenthesis opened before the DOI, not inside it."""
    while doi.endswith(")") and doi.count("(") < doi.count(")"):
        doi = doi[:-1]
    return doi


def normalise_doi(value: str | None) -> str | None:
    """A DOI in canonical form (lower case, no prefix, URL-decoded), or None if not a DOI."""
    if not value:
        return None
    doi = unquote(value.strip())
    doi = _DOI_PREFIXES.sub("", doi).strip()
    doi = doi.rstrip(_TRAILING.replace(")", ""))
    doi = _balance_parens(doi).rstrip(_TRAILING.replace(")", ""))
    doi = doi.lower()
    return doi if _DOI_SHAPE.match(doi) else None


def find_doi(value: str | None) -> str | None:
    """The first DOI inside `value` (a URL, GUID, `doi:` string or text), normalised, or None."""
    if not value or ("10." not in value and "10%2" not in value.upper()):
        return None
    m = DOI_IN_TEXT.search(unquote(value))
    if not m:
        return None
    doi = m.group(1)
    # publisher URLs append views after the DOI: /doi/full/10.x/y, /doi/10.x/y/abstract, ?..., #...
    doi = re.split(r"[?#&]", doi, maxsplit=1)[0]
    doi = re.sub(r"/(?:abstract|full|fulltext|pdf|epdf|suppl_file|figures|references|html|meta)(?:/.*)?$",
                 "", doi, flags=re.IGNORECASE)
    if doi.startswith("10.1101/"):  # bioRxiv/medRxiv pages add a version and a view
        doi = re.sub(r"(v\d+)?(\.full(\.pdf|-text)?|\.abstract|\.article-\w+)?$", "", doi)
    return normalise_doi(doi)


def normalise_pmid(value: str | int | None) -> str | None:
    """A PMID as a string of digits without leading zeros, or None."""
    if value is None:
        return None
    digits = re.sub(r"^(?:pmid:?\s*|pubmed:\s*)", "", str(value).strip(), flags=re.IGNORECASE)
    return str(int(digits)) if digits.isdigit() and 0 < int(digits) < 10**9 else None


def normalise_pmcid(value: str | None) -> str | None:
    """A PMC id as 'PMC' + digits, or None."""
    if not value:
        return None
    m = re.fullmatch(r"(?:pmcid:?\s*)?(?:pmc)?\s*(\d+)", value.strip(), flags=re.IGNORECASE)
    return f"PMC{int(m.group(1))}" if m and int(m.group(1)) > 0 else None


def normalise_pii(value: str | None) -> str | None:
    """An Elsevier PII without punctuation, upper case ('S0022347618311193'), or None."""
    if not value:
        return None
    m = _PII.search(value)
    if not m:
        return None
    pii = re.sub(r"[^0-9A-Za-z]", "", m.group(1)).upper()
    return pii if len(pii) == 17 else None


#: query parameters that only say where a click came from; everything else may be identity
#: (AuntMinnie `?ItemID=`, LWW `?article=`, SciELO `?pid=`, SSRN `?abstract_id=`, YouTube `?v=`)
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid", "igshid",
    "igsh", "li_fat_id", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "__hstc", "__hssc", "__hsfp",
    "hsctatracking", "mkt_tok", "af", "oly_anon_id", "oly_enc_id", "vero_id", "vero_conv", "wickedid",
    "rb_clickid", "ref_src", "ref_url", "_ga", "_gl", "cmpid", "ncid", "sc_cid", "trk", "spmailingid",
})
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmb_")  # Google, Matomo/Piwik, HubSpot campaign fields
#: share-button parameters of one host (`?si=` on YouTube, `?feature=share`)
HOST_TRACKING = {"youtube.com": frozenset({"si", "feature", "pp"}), "youtu.be": frozenset({"si", "feature"})}
KEY_URL_MAX = 590
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _normalise_escapes(text: str) -> str:
    """Decode escapes of unreserved characters (`%7E` -> `~`), upper-case the others (`%2f` -> `%2F`)."""
    if "%" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        char = chr(int(m.group(1), 16))
        return char if char in _UNRESERVED else "%" + m.group(1).upper()

    return _ESCAPE.sub(one, text)


def is_tracking_param(name: str, host: str = "") -> bool:
    """True for a query parameter that only tracks the click (utm_*, fbclid, gclid, af, mc_cid, ...)."""
    low = unquote(name).strip().lower()
    return low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES) or low in HOST_TRACKING.get(host, ())


def canonical_query(query: str, host: str = "") -> str:
    """The query without tracking parameters, escapes normalised, parameters sorted ('' if none left)."""
    kept = []
    for pair in query.split("&"):
        if not pair or is_tracking_param(pair.partition("=")[0], host):
            continue
        kept.append(_normalise_escapes(pair))
    return "&".join(sorted(kept))


def canonical_url(url: str | None) -> str | None:
    """The URL with https, host lower-cased without www., no fragment, no trailing slash, and only
    the query parameters that are not tracking (sorted, escapes of unreserved characters decoded).

    `https://www.auntminnie.com/index.aspx?sec=ser&ItemID=1&utm_source=x` and
    `http://auntminnie.com/index.aspx?ItemID=1&sec=ser` are one key; `ItemID=2` is another.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().removeprefix("www.")
    if host.startswith("m.") and host.count(".") > 1:  # mobile pages: m.youtube.com
        host = host[2:]
    path = _normalise_escapes(parts.path)
    if "//" in path:
        path = re.sub(r"/{2,}", "/", path)
    query = canonical_query(parts.query, host) if parts.query else ""
    return f"https://{host}{path.rstrip('/') or '/'}" + (f"?{query}" if query else "")


def pubmed_url(pmid: str) -> str:
    return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}"


def pmc_url(pmcid: str) -> str:
    return f"https://pmc.ncbi.nlm.nih.gov/articles/{pmcid}"


def pii_url(pii: str) -> str:
    return f"https://sciencedirect.com/science/article/pii/{pii}"


def pubmed_id_in_url(host: str, path: str, query: str = "") -> str | None:
    """The PMID a PubMed or Europe PMC page stands for, or None.

    `pubmed.ncbi.nlm.nih.gov/1`, `ncbi.nlm.nih.gov/pubmed/1`, `ncbi.nlm.nih.gov/pubmed/?term=1`
    (a search for one PMID), `europepmc.org/article/MED/1` and `europepmc.org/abstract/MED/1`.
    """
    host = host.lower().removeprefix("www.")
    if host == "pubmed.ncbi.nlm.nih.gov" or (host == "ncbi.nlm.nih.gov" and path.startswith("/pubmed")):
        if m := re.fullmatch(r"/(?:pubmed/?)?(\d{1,9})/?", path):
            return normalise_pmid(m.group(1))
        if path.rstrip("/") in ("", "/pubmed") and (
            m := re.search(r"(?:^|&)term=(\d{1,9})(?:%5Bpmid%5D|%5Buid%5D|\[pmid\]|\[uid\])?(?:&|$)",
                           query, re.IGNORECASE)
        ):
            return normalise_pmid(m.group(1))
    if host == "europepmc.org" and (m := re.fullmatch(r"/(?:article|abstract)/MED/(\d{1,9})/?", path, re.IGNORECASE)):
        return normalise_pmid(m.group(1))
    return None


def canonical_article_url(url: str | None) -> str | None:
    """The canonical URL of an article page: one form per PubMed, PMC, Elsevier and YouTube item.

    `www.ncbi.nlm.nih.gov/pubmed/1`, `pubmed.ncbi.nlm.nih.gov/1/`, `ncbi.nlm.nih.gov/pubmed/?term=1`,
    `europepmc.org/article/MED/1` -> pubmed.ncbi.nlm.nih.gov/1;
    `ncbi.nlm.nih.gov/pmc/articles/PMC1/`, `pmc.ncbi.nlm.nih.gov/articles/PMC1` -> the latter;
    Elsevier pages (`jacr.org/article/S1546-1440(23)00123-4/fulltext`, sciencedirect `pii/...`)
    -> sciencedirect.com/science/article/pii/<PII>; `youtu.be/<id>` -> youtube.com/watch?v=<id>.
    Anything else: `canonical_url`.
    """
    canon = canonical_url(url)
    if canon is None:
        return None
    parts = urlsplit(canon)
    host, path = parts.hostname or "", parts.path
    if pmid := pubmed_id_in_url(host, path, parts.query):
        return pubmed_url(pmid)
    if host in ("ncbi.nlm.nih.gov", "pmc.ncbi.nlm.nih.gov", "europepmc.org") and (
        m := re.search(r"/(PMC\d+)(?:/|$)", path, re.IGNORECASE)
    ):
        return pmc_url(normalise_pmcid(m.group(1)) or m.group(1).upper())
    if host.endswith(ELSEVIER_HOSTS) and (pii := normalise_pii(unquote(path))):
        return pii_url(pii)
    if host == "youtu.be" and (m := re.fullmatch(r"/([\w-]{6,20})", path)):
        rest = canonical_query(parts.query, "youtube.com")
        return canonical_url(f"https://youtube.com/watch?v={m.group(1)}" + (f"&{rest}" if rest else ""))
    return canon


def article_key(*, doi: str | None = None, pmid: str | None = None, url: str | None = None) -> str:
    """'doi:<doi>', else 'pmid:<pmid>', else 'url:<canonical url>'."""
    if d := normalise_doi(doi):
        return f"doi:{d}"
    if p := normalise_pmid(pmid):
        return f"pmid:{p}"
    if u := canonical_article_url(url):
        if len(u) > KEY_URL_MAX:  # articles.key is 600 characters: a long query ends in its hash
            u = f"{u[:KEY_URL_MAX - 41]}#{hashlib.sha1(u.encode()).hexdigest()}"
        return f"url:{u}"
    raise ValueError("an article needs a DOI, a PMID or a URL")


__all__ = [
    "DOI_IN_TEXT",
    "article_key",
    "canonical_article_url",
    "canonical_query",
    "canonical_url",
    "find_doi",
    "is_tracking_param",
    "normalise_doi",
    "normalise_pii",
    "normalise_pmcid",
    "normalise_pmid",
    "pii_url",
    "pmc_url",
    "pubmed_id_in_url",
    "pubmed_url",
]
