"""Finding the papers a post cites: DOIs, PMIDs, PMC ids and article links.

`extract_citations(text, links)` reads the post text and the platform's expanded URLs and
returns normalised `Citation`s. It is built for volume: `might_cite` is one precompiled regex
that rejects the ~98% of posts that cite nothing before any real work is done.

What counts (precision first; a wrong link inflates a paper's attention):
- DOIs: `doi:10.x/y`, bare `10.NNNN/suffix`, doi.org links, and DOIs in publisher URLs
  (`/doi/10.x/y`, Springer `/article/10.x/y`, medRxiv `/content/10.1101/...v1`, Nature
  `/articles/s41591-...` -> `10.1038/...`, arXiv `abs/2301.01234` -> `10.48550/arxiv.2301.01234`).
- PMIDs only from PubMed links or an explicit `PMID: 123` label; bare numbers never.
- PMC ids from `PMC123456` tokens and PMC links.
- Elsevier article pages by PII and a few journal pages without DOI (JAMA, AJNR content)
  as canonical URLs.
- Shortened links (t.co, bit.ly, ...) are ignored in the text: the platform's expanded URL,
  passed in `links`, is what is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from radpulse.literature.identifiers import (
    ELSEVIER_HOSTS,
    canonical_url,
    find_doi,
    normalise_doi,
    normalise_pii,
    normalise_pmcid,
    normalise_pmid,
    pii_url,
)

#: journal and publisher hosts whose article URLs carry a DOI or an identifier we read
JOURNAL_HOSTS = (
    "pubs.rsna.org", "ajronline.org", "ajnr.org", "link.springer.com", "springeropen.com",
    "springer.com", "biomedcentral.com", "birpublications.org", "onlinelibrary.wiley.com",
    "journals.sagepub.com", "nejm.org", "jamanetwork.com", "nature.com", "thelancet.com",
    "sciencedirect.com", "jacr.org", "academicradiology.org", "jvir.org", "ejradiology.com",
    "clinicalradiologyonline.net", "jnm.snmjournals.org", "medrxiv.org", "biorxiv.org",
    "arxiv.org", "frontiersin.org", "mdpi.com", "tandfonline.com", "karger.com", "thieme-connect.com",
    "journals.lww.com", "bmj.com", "academic.oup.com", "europepmc.org", "jmir.org",
    "cambridge.org", "cureus.com", "plos.org",
)
SHORTENERS = frozenset({
    "t.co", "bit.ly", "buff.ly", "ow.ly", "tinyurl.com", "goo.gl", "dlvr.it", "lnkd.in", "trib.al",
    "ift.tt", "shorturl.at", "rb.gy", "is.gd", "fb.me", "wp.me", "sforce.co", "hubs.ly",
})

#: cheap first pass: could this post cite anything at all?
PREFILTER = re.compile(
    r"10\.\d{4}|pmid|pubmed|pmc|ncbi|rsna\.org|ajronline|ajnr\.org|springer|sciencedirect|"
    r"jacr\.org|academicradiology|jvir\.org|ejradiology|clinicalradiologyonline|birpublications|"
    r"wiley\.com|sagepub|nejm\.org|jamanetwork|nature\.com|thelancet|snmjournals|rxiv\.org|"
    r"biomedcentral|frontiersin|mdpi\.com|tandfonline|karger|thieme|lww\.com|bmj\.com|oup\.com|"
    r"jmir\.org|cambridge\.org|cureus|plos\.org|doi",
    re.IGNORECASE,
)
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'`]+|\b(?:dx\.)?doi\.org/[^\s<>\"'`]+", re.IGNORECASE)
_DOI_LABELLED = re.compile(r"\bdoi:?\s*(10\.\d{4,9}/[^\s\"'<>]+)", re.IGNORECASE)
_DOI_BARE = re.compile(r"(?<![\w./])(10\.\d{4,9}/[^\s\"'<>]*[A-Za-z0-9][^\s\"'<>]*)")
_PMID_LABELLED = re.compile(r"\b(?:pmid|pubmed\s*id)\s*[:#]?\s*(\d{1,9})\b|\bpubmed\s*[:#]\s*(\d{1,9})\b",
                            re.IGNORECASE)
_PMCID = re.compile(r"\b(PMC\d{4,9})\b", re.IGNORECASE)
_TRAIL = ".,;:!?)]}>'\"*…"


@dataclass(frozen=True, slots=True)
class Citation:
    """One paper a post points at: kind is doi | pmid | pmcid | url, value is normalised."""

    kind: str
    value: str
    matched: str


def might_cite(text: str) -> bool:
    """True when `text` may contain a citation (false negatives impossible, positives cheap)."""
    return PREFILTER.search(text) is not None


def _trim_url(url: str) -> str:
    url = url.rstrip(_TRAIL)
    while url.endswith(")") and url.count("(") < url.count(")"):
        url = url[:-1].rstrip(_TRAIL)
    return url


def _host_matches(host: str, domains: Iterable[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def citations_from_url(url: str) -> list[Citation]:
    """The citation a URL stands for (empty for unrelated or shortened links)."""
    url = _trim_url(url.strip())
    if url.lower().startswith(("www.", "doi.org/", "dx.doi.org/")):
        url = "https://" + url
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return []
    if host.startswith("www."):
        host = host[4:]
    if not host or host in SHORTENERS:
        return []
    path = unquote(parts.path)
    if host in ("doi.org", "dx.doi.org"):
        doi = normalise_doi(path.lstrip("/"))
        return [Citation("doi", doi, url)] if doi else []
    if host == "pubmed.ncbi.nlm.nih.gov" or (host == "ncbi.nlm.nih.gov" and path.startswith("/pubmed/")):
        m = re.match(r"/(?:pubmed/)?(\d{1,9})/?$", path)
        pmid = normalise_pmid(m.group(1)) if m else None
        return [Citation("pmid", pmid, url)] if pmid else []
    if host in ("ncbi.nlm.nih.gov", "pmc.ncbi.nlm.nih.gov", "europepmc.org"):
        m = re.search(r"/(PMC\d+)(?:/|$)", path, re.IGNORECASE)
        pmcid = normalise_pmcid(m.group(1)) if m else None
        return [Citation("pmcid", pmcid, url)] if pmcid else []
    if host == "arxiv.org":
        m = re.match(r"/(?:abs|pdf)/(\d{4}\.\d{4,5})", path)
        return [Citation("doi", f"10.48550/arxiv.{m.group(1)}", url)] if m else []
    if _host_matches(host, ("nature.com",)):
        m = re.match(r"/articles/(s\d{5}-\d{3}-\d{5}-[\dxX]|[a-z]+\d{4,})", path)
        if m:
            return [Citation("doi", normalise_doi("10.1038/" + m.group(1)) or "", url)]
    if re.search(r"(?:^|/)10\.\d{4,9}/", path):
        doi = find_doi(path)
        if doi:
            return [Citation("doi", doi, url)]
    if _host_matches(host, ELSEVIER_HOSTS) and (pii := normalise_pii(path)):
        return [Citation("url", pii_url(pii), url)]
    if host == "jamanetwork.com" and re.search(r"/fullarticle/\d+", path):
        canon = canonical_url(url.split("/fullarticle/")[0] + "/fullarticle/" +
                              re.search(r"/fullarticle/(\d+)", path).group(1))  # type: ignore[union-attr]
        return [Citation("url", canon, url)] if canon else []
    if host in ("ajnr.org", "jnm.snmjournals.org") and (m := re.match(r"(/content/\d+/\d+/\d+)", path)):
        return [Citation("url", f"https://{host}{m.group(1)}", url)]
    return []


def extract_citations(text: str | None, links: Sequence[str] | None = ()) -> list[Citation]:
    """Every distinct paper cited in `text` and the platform's expanded `links`, in order."""
    found: list[Citation] = []
    seen: set[tuple[str, str]] = set()

    def add(items: Iterable[Citation]) -> None:
        for c in items:
            if c.value and (c.kind, c.value) not in seen:
                seen.add((c.kind, c.value))
                found.append(c)

    for link in links or ():
        if link and might_cite(link):
            add(citations_from_url(link))
    if not text or not might_cite(text):
        return found
    rest = text
    if "http" in text or "www." in text or "doi.org" in text:
        spans = []
        for m in _URL.finditer(text):
            add(citations_from_url(m.group(0)))
            spans.append(m.span())
        if spans:  # identifiers inside URLs were read above; don't read them twice as text
            pieces, last = [], 0
            for start, end in spans:
                pieces.append(text[last:start])
                last = end
            pieces.append(text[last:])
            rest = " ".join(pieces)
    for m in _DOI_LABELLED.finditer(rest):
        if doi := normalise_doi(_trim_url(m.group(1))):
            add([Citation("doi", doi, m.group(0))])
    for m in _DOI_BARE.finditer(rest):
        if doi := normalise_doi(_trim_url(m.group(1))):
            add([Citation("doi", doi, m.group(1))])
    for m in _PMID_LABELLED.finditer(rest):
        if pmid := normalise_pmid(m.group(1) or m.group(2)):
            add([Citation("pmid", pmid, m.group(0))])
    for m in _PMCID.finditer(rest):
        if pmcid := normalise_pmcid(m.group(1).replace(" ", "")):
            add([Citation("pmcid", pmcid, m.group(0))])
    return found


__all__ = ["Citation", "JOURNAL_HOSTS", "PREFILTER", "citations_from_url", "extract_citations", "might_cite"]
