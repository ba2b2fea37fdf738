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
from typing import Any

from radpulse import safetext
from radpulse.identifiers import article_key
from radpulse.safetext import check_length, plain_text, plain_texts
from radpulse.safeurl import safe_http_url, safe_http_urls

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


def _make_inert(record: Any, fields: tuple[str, ...], lists: tuple[str, ...]) -> None:
    """Control characters out of every text field of `record`, `url` kept only when http(s),
    and each field checked against `radpulse.safetext.LIMITS` (ValueError naming the field)."""
    limits = safetext.LIMITS
    for name in fields:
        value = getattr(record, name)
        if value:
            if type(value) is not str:
                raise TypeError(f"{name} is a {type(value).__name__}, not text")
            check_length(name, value, _COLUMN_CHARS.get(name, limits.max_field_chars))
            value = plain_text(value)
            setattr(record, name, None if len(value) > _DROP_CHARS.get(name, len(value)) else value)
    for name in lists:
        value = getattr(record, name)
        if value:
            check_length(name, value, limits.max_list_items)
            setattr(record, name, plain_texts(value))
    if record.url is not None:
        record.url = safe_http_url(plain_text(record.url))
    raw = record.raw
    if type(raw) is bytes and len(raw) > limits.max_record_bytes:
        raise ValueError(f"the payload is {len(raw):,} bytes, over the limit of {limits.max_record_bytes:,} "
                         "(raise [limits] max_record_bytes in the config to keep such records)")


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
        _make_inert(self, _AUTHOR_TEXT, ())


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
    received a batch, it holds the payload serialised, as an `orjson.Fragment`.
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
        if self.text:
            check_length("text", self.text, safetext.LIMITS.max_text_chars)
            self.text = plain_text(self.text)
        _make_inert(self, _POST_TEXT, ("hashtags", "mentions"))
        if self.links:
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
        if self.abstract:
            check_length("abstract", self.abstract, safetext.LIMITS.max_text_chars)
            self.abstract = plain_text(self.abstract)
        _make_inert(self, _ARTICLE_TEXT, ("authors", "mesh_terms"))
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
