"""The record types every layer shares: what collectors yield and the store writes.

Normalised posts, authors and articles (each keeping its raw payload and provenance, and made
inert as it is built), items that could not be normalised, the `Batch` a collector yields, and
the `SourceSpec`/`PostRef` that tell a collector what to read. This module is the bottom layer:
it imports from radpulse only the other leaf modules (identifiers, safe text and URLs), so the
store, the linker and the collectors can all depend on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from radpulse import safetext
from radpulse.identifiers import article_key
from radpulse.safetext import check_length, is_plain, plain_text, plain_texts
from radpulse.safeurl import is_plain_http_url, safe_http_url, safe_http_urls

JSON = dict[str, Any]

_POST_TEXT = ("external_id", "author_external_id", "title", "language", "community",
              "in_reply_to_id", "quoted_id", "reposted_id", "conversation_id")
_AUTHOR_TEXT = ("external_id", "handle", "display_name", "bio")
_ARTICLE_TEXT = ("doi", "pmid", "pmcid", "title", "journal", "issn", "source")
#: the width of the column each of these fields is stored in (radpulse.db.models): longer values
#: would be cut by nothing on SQLite and refused on PostgreSQL, so they are refused here, on both
_COLUMN_CHARS = {"external_id": 300, "author_external_id": 200, "community": 200, "in_reply_to_id": 300,
                 "quoted_id": 300, "reposted_id": 300, "conversation_id": 300, "handle": 300, "doi": 300,
                 "pmid": 20, "pmcid": 20}
#: optional descriptive fields: a value too long for its column is dropped, the record kept
_DROP_CHARS = {"language": 16, "issn": 20}
#: articles.key is VARCHAR(600): "url:" and the URL when there is no DOI or PMID
_MAX_KEY_URL = 590


class _Fields:
    """The fields `_make_inert` checks on one record type, with what it needs to check them fast."""

    __slots__ = ("text", "lists", "long", "get", "caps", "smallest", "drop")

    def __init__(self, text: tuple[str, ...], lists: tuple[str, ...], long: str | None = None) -> None:
        self.text = text  # short text fields (capped by their column or [limits] max_field_chars)
        self.lists = lists  # lists of text (capped at [limits] max_list_items)
        self.long = long  # the long text field (capped at [limits] max_text_chars)
        self.get = attrgetter(*text)  # all the text fields at once
        #: each text field's own cap (None: [limits] max_field_chars), and the smallest of them
        self.caps = tuple(_COLUMN_CHARS.get(name) for name in text)
        self.smallest = min(c for c in self.caps if c is not None)
        #: the optional fields that are dropped when too long, with their caps
        self.drop = tuple((name, _DROP_CHARS[name]) for name in text if name in _DROP_CHARS)


#: the types a text field may have for the fast path (anything else takes the detailed one)
_TEXT_OR_NONE = frozenset((str, type(None)))
_POST_FIELDS = _Fields(_POST_TEXT, ("hashtags", "mentions"), "text")
_AUTHOR_FIELDS = _Fields(_AUTHOR_TEXT, ())
_ARTICLE_FIELDS = _Fields(_ARTICLE_TEXT, ("authors", "mesh_terms"), "abstract")


def _make_inert(record: Any, spec: _Fields) -> None:
    """Control characters out of every text field of `record`, `url` kept only when http(s),
    and each field checked against `radpulse.safetext.LIMITS` (ValueError naming the field).

    Most records from the internet have nothing to change or refuse: `_already_inert` tells so
    with a few C-level scans, and only the others take the field-by-field `_make_inert_detailed`
    (both give the same record: tests/core/test_safe_fast_paths.py)."""
    if not _already_inert(record, spec):
        _make_inert_detailed(record, spec)
    url = record.url
    if url is not None and not (type(url) is str and is_plain_http_url(url)):
        record.url = safe_http_url(plain_text(url))
    raw = record.raw
    if type(raw) is bytes and len(raw) > safetext.LIMITS.max_record_bytes:
        limit = safetext.LIMITS.max_record_bytes
        raise ValueError(f"the payload is {len(raw):,} bytes, over the limit of {limit:,} "
                         "(raise [limits] max_record_bytes in the config to keep such records)")


def _already_inert(record: Any, spec: _Fields) -> bool:
    """Whether `_make_inert_detailed` would leave every text and list field of `record` as it
    is and refuse none: all text fields exact `str` (or None), items of the lists non-empty text,
    nothing over its cap, no character `plain_text` removes, no optional field too long to keep.
    C-level passes over all the fields together; a field-by-field loop only for long values."""
    limits = safetext.LIMITS
    values = spec.get(record)
    if not _TEXT_OR_NONE.issuperset(map(type, values)):
        return False
    parts = [*filter(None, values)]
    short = " ".join(parts)
    if len(short) > spec.smallest or len(short) > limits.max_field_chars:  # then some field may be over its cap
        for value, cap in zip(values, spec.caps):
            if value and len(value) > (cap or limits.max_field_chars):
                return False
    for name, cap in spec.drop:
        value = getattr(record, name)
        if value and len(value) > cap:
            return False
    if spec.long is not None and (long := getattr(record, spec.long)):
        if type(long) is not str or len(long) > limits.max_text_chars:
            return False
        parts.append(long)
    for name in spec.lists:
        items = getattr(record, name)
        if items:
            if type(items) is not list or len(items) > limits.max_list_items or not all(items):
                return False
            parts += items
    try:
        return is_plain(" ".join(parts))  # list items that are not text: TypeError
    except TypeError:
        return False


def _plain_links(links: Any) -> bool:
    """Whether `links` is a list that `safe_http_urls(plain_texts(links))` gives back unchanged."""
    if type(links) is not list:
        return False
    for link in links:
        if type(link) is not str or not is_plain_http_url(link):
            return False
    return True


def _make_inert_detailed(record: Any, spec: _Fields) -> None:
    """`_make_inert`'s text and list fields, field by field: each field's type and length
    checked (TypeError or ValueError naming it), control characters removed, optional fields too
    long for their column dropped, empty list items dropped."""
    limits = safetext.LIMITS
    if spec.long is not None and (long := getattr(record, spec.long)):
        check_length(spec.long, long, limits.max_text_chars)
        setattr(record, spec.long, plain_text(long))
    for name in spec.text:
        value = getattr(record, name)
        if value:
            if type(value) is not str:
                raise TypeError(f"{name} is a {type(value).__name__}, not text")
            check_length(name, value, _COLUMN_CHARS.get(name, limits.max_field_chars))
            value = plain_text(value)
            setattr(record, name, None if len(value) > _DROP_CHARS.get(name, len(value)) else value)
    for name in spec.lists:
        value = getattr(record, name)
        if value:
            check_length(name, value, limits.max_list_items)
            setattr(record, name, plain_texts(value))


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC (patchable in tests)."""
    return dt.datetime.now(dt.timezone.utc)


def provenance(endpoint: str, client: str, retrieved_at: dt.datetime | None = None) -> JSON:
    """Where a record came from: endpoint, client library and version, time retrieved (UTC)."""
    return {
        "endpoint": endpoint,
        "client": client,
        "retrieved_at": (retrieved_at or utcnow()).isoformat(),
    }


@dataclass(frozen=True, slots=True)
class MergeRule:
    """How new readings of a stored post merge into it; a collector declares its platform's rule
    (`Collector.merge_rule`) and the store applies it to that collector's posts.

    By default the newest reading's counts replace the stored ones. With `per_community`, one
    post is read in several communities that each keep their own counts (Mastodon: a status
    seen on several instances): a reading from another community than the stored one only ever
    raises a count, and the community the post was first read in stays its community (a rerun
    or refresh there replaces the counts as usual).
    """

    per_community: bool = False


@dataclass(slots=True)
class AuthorRecord:
    """A normalised account, unique by (platform, external_id)."""

    platform: str
    external_id: str
    handle: str | None = None
    display_name: str | None = None
    bio: str | None = None
    followers: int | None = None
    following: int | None = None
    verified: bool | None = None
    url: str | None = None
    raw: JSON | None = None

    def __post_init__(self) -> None:
        _make_inert(self, _AUTHOR_FIELDS)


@dataclass(slots=True)
class PostRecord:
    """A normalised post, unique by (platform, external_id).

    `created_at` and `metrics_read_at` are timezone-aware UTC. Counts are None when the platform
    does not report them. `links` are the platform's expanded URLs (entities, facets, cards);
    `hashtags` without '#'. Every record is made inert as it is built (`_make_inert`): control
    characters other than tab and newline removed from its text, `url` and `links` kept only when
    http(s), and sizes checked against `[limits]` (ValueError, which normalisers quarantine). A post deleted at the source is sent with `is_deleted=True`; storage
    then purges its text and raw payload and never restores them. `raw` (here and in
    AuthorRecord) is the payload: a JSON value, or the JSON text exactly as the service sent it,
    as UTF-8 `bytes` (the Mastodon and Bluesky collectors; see `collectors.payloads.utf8`). Once the runner has
    received a batch, it holds the payload serialised, as that JSON text in bytes.
    """

    platform: str
    external_id: str
    text: str | None
    created_at: dt.datetime
    author_external_id: str | None = None
    url: str | None = None
    title: str | None = None
    language: str | None = None
    community: str | None = None  # subreddit, Mastodon instance, ...
    reply_count: int | None = None
    like_count: int | None = None
    repost_count: int | None = None
    quote_count: int | None = None
    view_count: int | None = None
    score: int | None = None  # Reddit's net score
    metrics_read_at: dt.datetime | None = None
    has_media: bool = False
    in_reply_to_id: str | None = None
    quoted_id: str | None = None
    reposted_id: str | None = None
    conversation_id: str | None = None
    links: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    is_deleted: bool = False
    raw: JSON | None = None
    provenance: JSON | None = None

    def __post_init__(self) -> None:
        _make_inert(self, _POST_FIELDS)
        if self.links and not _plain_links(self.links):  # most are plain http(s) URLs, kept as they are
            self.links = safe_http_urls(plain_texts(self.links))


@dataclass(slots=True)
class ArticleRecord:
    """A normalised scholarly article. Keyed on normalised DOI, else PMID, else canonical URL."""

    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    url: str | None = None
    title: str | None = None
    journal: str | None = None
    issn: str | None = None
    authors: list[str] = field(default_factory=list)
    abstract: str | None = None
    published_date: dt.date | None = None
    entrez_date: dt.date | None = None
    mesh_terms: list[str] = field(default_factory=list)
    source: str | None = None  # "feed", "pubmed", "crossref", "mention", ...
    crossref_status: str | None = None  # None, "found", "not_registered"
    raw: JSON | None = None
    provenance: JSON | None = None

    def __post_init__(self) -> None:
        _make_inert(self, _ARTICLE_FIELDS)
        if self.url and not (self.doi or self.pmid) and len(self.url) > _MAX_KEY_URL:
            raise ValueError(f"the article has no DOI or PMID and its URL is {len(self.url):,} characters, "
                             f"over the {_MAX_KEY_URL} radpulse can key an article on")

    @property
    def key(self) -> str:
        """The identity key: 'doi:<doi>', 'pmid:<pmid>' or 'url:<canonical url>'."""
        return article_key(doi=self.doi, pmid=self.pmid, url=self.url)


@dataclass(slots=True)
class Quarantined:
    """An item that could not be normalised, kept with its raw payload and the reason."""

    raw: Any
    error: str
    external_id: str | None = None

    def __post_init__(self) -> None:
        self.error = plain_text(self.error) or "unknown error"
        if self.external_id is not None:  # kept to be found again, so shortened rather than lost
            self.external_id = (plain_text(str(self.external_id)) or "")[:_COLUMN_CHARS["external_id"]] or None


@dataclass(slots=True)
class Batch:
    """One unit of work the runner commits atomically together with `cursor`."""

    posts: list[PostRecord] = field(default_factory=list)
    authors: list[AuthorRecord] = field(default_factory=list)
    articles: list[ArticleRecord] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    cursor: JSON | None = None  # the cursor to store after this batch; None keeps the old one
    warnings: list[str] = field(default_factory=list)
    api_units: int = 0  # billable reads this batch cost (X bills per post read)
    fetched: int | None = None  # items received from the API (defaults to len(posts)+len(articles))


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A tracked source as the collector sees it."""

    name: str
    platform: str
    kind: str
    value: str
    settings: JSON = field(default_factory=dict)
    id: int | None = None


@dataclass(frozen=True, slots=True)
class PostRef:
    """A stored post whose engagement is to be refreshed."""

    platform: str
    external_id: str
    created_at: dt.datetime
    url: str | None = None
    community: str | None = None
