"""Pure functions turning feedparser output into ArticleRecords (no network, no database)."""

from __future__ import annotations

import calendar
import datetime as dt
import email.utils
import html
import re
import time
from dataclasses import dataclass, field
from typing import Any

import feedparser
from lxml import etree

from radpulse.collectors.feeds.fastparse import fast_parse
from radpulse.identifiers import (
    canonical_article_url,
    find_doi,
    normalise_pmid,
)
from radpulse.records import ArticleRecord, Quarantined, provenance
from radpulse.safetext import strip_markup
from radpulse.safeurl import safe_http_url

_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")
_INITIALS = re.compile(r"^(?:[A-Z]\.?\s?-?){1,4}$")
_PMID_GUID = re.compile(r"^(?:pubmed|pmid):\s*(\d+)$", re.IGNORECASE)
_PUBMED_LINK = re.compile(r"pubmed\.ncbi\.nlm\.nih\.gov/(\d+)")
CLIENT = f"feedparser/{feedparser.__version__}"
FAST_CLIENT = f"lxml/{'.'.join(map(str, etree.LXML_VERSION[:3]))}"


@dataclass
class ParsedFeed:
    """What one feed document gave: records, items that could not be used, and warnings."""

    version: str
    title: str | None
    articles: list[ArticleRecord] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    entries: int = 0


def clean_text(value: str | None) -> str | None:
    """Plain text of a feed's (HTML) text: entities decoded once, then every tag removed,
    whitespace collapsed; None when empty.

    The order matters: stripping first and decoding after would turn an escaped
    `&lt;img src=x onerror=...&gt;` into live markup in the stored text.
    """
    if not value:
        return None
    if "&" in value:
        value = html.unescape(value)
    value = strip_markup(value)
    return " ".join(value.split()) or None


def parse_date(value: Any) -> dt.date | None:
    """A date from a struct_time, RFC 822, ISO 8601 or a malformed ISO string, else None.

    Journals publish things like `2018-12-17-08:00` (a zone glued to a date): the leading
    `YYYY-MM-DD` is taken. Only a year or year-month gives the first day of that period.
    """
    if not value:
        return None
    if isinstance(value, time.struct_time):
        try:
            return dt.datetime.fromtimestamp(calendar.timegm(value), dt.UTC).date()
        except (OverflowError, ValueError):
            return None
    text = str(value).strip()
    if m := _ISO_DAY.search(text):
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    if m := _ISO_MONTH.match(text):
        return dt.date(int(m.group(1)), int(m.group(2)), 1) if 1 <= int(m.group(2)) <= 12 else None
    if m := _YEAR.match(text):
        return dt.date(int(m.group(1)), 1, 1)
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC)
    return parsed.date()


def split_authors(names: list[str]) -> list[str]:
    """Author names; one comma- or semicolon-joined `dc:creator` string becomes a list.

    `Smith J, Doe K` and `Gbolahan Ajibola, Jean Leidner` split on commas; `Smith, J., Doe, K.`
    (surname, initials pairs) is regrouped into `J. Smith`, `K. Doe`.
    """
    out: list[str] = []
    for raw in names:
        name = clean_text(raw)
        if not name:
            continue
        if ";" in name:
            out += [p.strip() for p in name.split(";") if p.strip()]
            continue
        parts = [p.strip() for p in re.split(r",|\band\b", name) if p.strip()]
        if len(parts) >= 2 and len(parts) % 2 == 0 and all(_INITIALS.match(p) for p in parts[1::2]):
            out += [f"{parts[i + 1]} {parts[i]}" for i in range(0, len(parts), 2)]
        else:
            out += parts
    seen: set[str] = set()
    return [n for n in out if not (n in seen or seen.add(n))]  # type: ignore[func-returns-value]


def entry_doi(entry: dict[str, Any]) -> str | None:
    """The DOI from prism:doi, dc:identifier, the links or the GUID (first found)."""
    candidates = [entry.get("prism_doi"), entry.get("dc_identifier"), entry.get("link")]
    candidates += [link.get("href") for link in entry.get("links") or []]
    candidates.append(entry.get("id"))
    for value in candidates:
        if isinstance(value, str) and (doi := find_doi(value)):
            return doi
    return None


def entry_pmid(entry: dict[str, Any]) -> str | None:
    """A PMID from a `pubmed:`/`pmid:` GUID or identifier, or a PubMed link."""
    for value in (entry.get("dc_identifier"), entry.get("id")):
        if isinstance(value, str) and (m := _PMID_GUID.match(value.strip())):
            return normalise_pmid(m.group(1))
    for value in (entry.get("link"), entry.get("id")):
        if isinstance(value, str) and (m := _PUBMED_LINK.search(value)):
            return normalise_pmid(m.group(1))
    return None


def entry_url(entry: dict[str, Any]) -> str | None:
    """The item's canonical article URL: its link, else a GUID that is a URL."""
    link = entry.get("link")
    if not link:
        guid = entry.get("id") or ""
        link = guid if guid.startswith(("http://", "https://")) else None
    link = safe_http_url(link)
    return canonical_article_url(link) if link else None


def entry_date(entry: dict[str, Any]) -> dt.date | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        if d := parse_date(entry.get(key)):
            return d
    for key in ("published", "updated", "dc_date", "prism_publicationdate", "prism_coverdate", "date"):
        if d := parse_date(entry.get(key)):
            return d
    return None


def _raw(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry as JSON-safe data (parsed time tuples dropped; the strings are kept)."""
    return {k: v for k, v in entry.items() if not k.endswith("_parsed")}


def normalise_entry(
    entry: dict[str, Any], *, journal: str | None, issn: str | None, feed_url: str, retrieved_at: dt.datetime,
    fallback_journal: str | None = None,
    client: str = CLIENT,
) -> ArticleRecord | Quarantined:
    """One feed item as an ArticleRecord keyed on DOI, PMID or canonical URL (never the GUID)."""
    doi = entry_doi(entry)
    pmid = entry_pmid(entry)
    url = entry_url(entry)
    if not (doi or pmid or url):
        return Quarantined(raw=_raw(entry), error="feed item has no DOI, PMID or link to key it on",
                           external_id=entry.get("id"))
    authors = [a.get("name", "") for a in entry.get("authors") or [] if isinstance(a, dict)]
    if not authors and entry.get("author"):
        authors = [entry["author"]]
    return ArticleRecord(
        doi=doi,
        pmid=pmid,
        url=url,
        title=clean_text(entry.get("title")),
        journal=journal or clean_text(entry.get("prism_publicationname")) or fallback_journal,
        issn=entry.get("prism_issn") or entry.get("prism_eissn") or issn,
        authors=split_authors(authors),
        abstract=clean_text(entry.get("summary")),
        published_date=entry_date(entry),
        source="feed",
        raw=_raw(entry),
        provenance=provenance(feed_url, client, retrieved_at),
    )


def parse_feed(content: bytes, *, feed_url: str, journal: str | None = None,
               retrieved_at: dt.datetime, fast: bool = True) -> ParsedFeed:
    """Parse feed bytes (RSS 0.9x/1.0/2.0, Atom). Broken XML is parsed as far as it goes.

    The journal name is the configured one, else the item's `prism:publicationName`, else the
    feed's, else the channel title. A document that is no feed at all (HTML, empty) gives `version == ""` and no items.
    Well-formed documents take the lxml fast path (`fastparse`) unless `fast=False`.
    """
    quick = fast_parse(content) if fast else None
    warnings = []
    if quick is not None:
        version, feed, entries = quick
    else:
        # the HTTP content type is not passed on: servers often send text/xml without a charset,
        # which would make feedparser override the document's own encoding declaration
        doc = feedparser.parse(content, sanitize_html=False, resolve_relative_uris=False)
        version, feed, entries = doc.get("version", ""), doc.get("feed", {}), doc.entries
        if doc.get("bozo"):
            exc = doc.get("bozo_exception")
            warnings.append(f"feed is not well-formed ({type(exc).__name__}: {exc}); {len(entries)} item(s) parsed")
    title = clean_text(feed.get("title"))
    fallback = clean_text(feed.get("prism_publicationname")) or title
    issn = feed.get("prism_issn") or feed.get("prism_eissn")
    parsed = ParsedFeed(version=version, title=title, entries=len(entries), warnings=warnings)
    for entry in entries:
        try:
            rec = normalise_entry(entry, journal=journal, fallback_journal=fallback, issn=issn, feed_url=feed_url,
                                  retrieved_at=retrieved_at,
                                  client=FAST_CLIENT if quick is not None else CLIENT)
        except (ValueError, TypeError) as exc:  # e.g. a field over [limits]
            rec = Quarantined(raw=_raw(entry), error=f"{type(exc).__name__}: {exc}",
                              external_id=entry.get("id") if isinstance(entry.get("id"), str) else None)
        if isinstance(rec, Quarantined):
            parsed.quarantined.append(rec)
        else:
            parsed.articles.append(rec)
    return parsed
