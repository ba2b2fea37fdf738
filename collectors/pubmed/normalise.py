"""Pure parsing of E-utilities XML: ESearch results and EFetch PubmedArticleSet records."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from lxml import etree

from radpulse.errors import BadPayload
from radpulse.identifiers import (
    normalise_doi,
    normalise_pmcid,
    normalise_pmid,
    pubmed_url,
)
from radpulse.records import ArticleRecord, Quarantined, provenance
from radpulse.safetext import strip_markup

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True,
                          remove_blank_text=False)
_SPACE = re.compile(r"\s+")
MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
CLIENT = f"httpx+lxml/{etree.__version__}"


@dataclass
class SearchResult:
    """An ESearch answer: total hits, history-server handles (when usehistory=y) and the ids shown."""

    count: int
    webenv: str | None = None
    query_key: str | None = None
    ids: list[str] = field(default_factory=list)


def _root(content: bytes, what: str) -> etree._Element:
    try:
        return etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise BadPayload(f"{what}: the answer is not well-formed XML ({exc}).",
                         hint="NCBI may be returning an error page; the next run tries again.") from None


def parse_esearch(content: bytes, what: str = "ESearch") -> SearchResult:
    """Count, WebEnv, QueryKey and the IdList of an eSearchResult document."""
    root = _root(content, what)
    if root.tag != "eSearchResult":
        raise BadPayload(f"{what}: expected an eSearchResult, got <{root.tag}>.")
    error = root.findtext("ERROR")
    count = root.findtext("Count")
    if error or count is None:
        raise BadPayload(f"{what}: NCBI reported an error: {error or 'no Count in the answer'}.",
                         hint="Check the PubMed query syntax in [[pubmed.queries]].")
    return SearchResult(
        count=int(count),
        webenv=root.findtext("WebEnv") or None,
        query_key=root.findtext("QueryKey") or None,
        ids=[i.text for i in root.iterfind("IdList/Id") if i.text],
    )


def text_of(el: etree._Element | None) -> str | None:
    """All text inside `el` (inline <i>, <sup>, <sub> markup flattened), whitespace collapsed;
    markup written as text (`&lt;a href=...&gt;`) is removed too (`strip_markup`)."""
    if el is None:
        return None
    value = _SPACE.sub(" ", strip_markup("".join(el.itertext()))).strip()
    return value or None


def _date(el: etree._Element | None) -> dt.date | None:
    """A date from <Year>/<Month>/<Day> (month as number or name) or a <MedlineDate>."""
    if el is None:
        return None
    year = el.findtext("Year")
    if not year:
        medline = el.findtext("MedlineDate") or ""
        m = re.match(r"(\d{4})(?:\s+([A-Za-z]{3}))?", medline)
        if not m:
            return None
        return dt.date(int(m.group(1)), MONTHS.get((m.group(2) or "jan").lower(), 1), 1)
    month_text = (el.findtext("Month") or "1").strip()
    month = int(month_text) if month_text.isdigit() else MONTHS.get(month_text[:3].lower(), 1)
    day_text = (el.findtext("Day") or "1").strip()
    try:
        return dt.date(int(year), month, int(day_text) if day_text.isdigit() else 1)
    except ValueError:
        return None


def _abstract(article: etree._Element) -> str | None:
    parts = []
    for node in article.iterfind("Abstract/AbstractText"):
        body = text_of(node)
        if not body:
            continue
        label = node.get("Label")
        parts.append(f"{label}: {body}" if label else body)
    return "\n\n".join(parts) or None


def _authors(article: etree._Element) -> list[str]:
    names = []
    for author in article.iterfind("AuthorList/Author"):
        collective = text_of(author.find("CollectiveName"))
        if collective:
            names.append(collective)
            continue
        last = text_of(author.find("LastName"))
        first = text_of(author.find("ForeName")) or text_of(author.find("Initials"))
        if last:
            names.append(f"{first} {last}" if first else last)
    return names


def normalise_article(node: etree._Element, *, endpoint: str, retrieved_at: dt.datetime) -> ArticleRecord:
    """One <PubmedArticle> as an ArticleRecord; raises ValueError when it has no PMID."""
    citation = node.find("MedlineCitation")
    pmid = normalise_pmid(citation.findtext("PMID") if citation is not None else None)
    if citation is None or pmid is None:
        raise ValueError("PubmedArticle without a PMID")
    article = citation.find("Article")
    if article is None:
        raise ValueError(f"PMID {pmid}: no <Article> element")
    ids = {a.get("IdType"): (a.text or "").strip() for a in node.iterfind("PubmedData/ArticleIdList/ArticleId")}
    doi = None
    for loc in article.iterfind("ELocationID"):
        if loc.get("EIdType") == "doi" and loc.get("ValidYN", "Y") == "Y":
            doi = normalise_doi(loc.text)
            break
    doi = doi or normalise_doi(ids.get("doi"))
    journal = article.find("Journal")
    published = _date(article.find("ArticleDate[@DateType='Electronic']")) or _date(
        journal.find("JournalIssue/PubDate") if journal is not None else None)
    entrez = _date(node.find("PubmedData/History/PubMedPubDate[@PubStatus='entrez']"))
    return ArticleRecord(
        doi=doi,
        pmid=pmid,
        pmcid=normalise_pmcid(ids.get("pmc")),
        url=pubmed_url(pmid),
        title=text_of(article.find("ArticleTitle")) or text_of(article.find("VernacularTitle")),
        journal=text_of(journal.find("Title")) if journal is not None else None,
        issn=(journal.findtext("ISSN") if journal is not None else None)
        or citation.findtext("MedlineJournalInfo/ISSNLinking"),
        authors=_authors(article),
        abstract=_abstract(article),
        published_date=published,
        entrez_date=entrez,
        mesh_terms=[t for t in (text_of(d) for d in citation.iterfind("MeshHeadingList/MeshHeading/DescriptorName")) if t],
        source="pubmed",
        raw={"pmid": pmid, "xml": etree.tostring(node, encoding="unicode")},
        provenance=provenance(endpoint, CLIENT, retrieved_at),
    )


def parse_pubmed_articles(
    content: bytes, *, endpoint: str, retrieved_at: dt.datetime, what: str = "EFetch"
) -> tuple[list[ArticleRecord], list[Quarantined]]:
    """Every <PubmedArticle> of a PubmedArticleSet; records that cannot be read are quarantined."""
    root = _root(content, what)
    if root.tag != "PubmedArticleSet":
        error = root.findtext(".//ERROR")
        raise BadPayload(f"{what}: expected a PubmedArticleSet, got <{root.tag}>"
                         + (f" ({error})" if error else "") + ".",
                         hint="Check that the query is run against db=pubmed.")
    records: list[ArticleRecord] = []
    quarantined: list[Quarantined] = []
    for node in root:
        if not isinstance(node.tag, str):
            continue
        if node.tag != "PubmedArticle":
            quarantined.append(Quarantined(raw={"xml": etree.tostring(node, encoding="unicode")[:100_000]},
                                           error=f"<{node.tag}> records are not collected",
                                           external_id=node.findtext(".//PMID")))
            continue
        try:
            records.append(normalise_article(node, endpoint=endpoint, retrieved_at=retrieved_at))
        except ValueError as exc:
            quarantined.append(Quarantined(raw={"xml": etree.tostring(node, encoding="unicode")[:100_000]},
                                           error=str(exc), external_id=node.findtext(".//PMID")))
    return records, quarantined
