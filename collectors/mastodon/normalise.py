"""Pure functions: a Mastodon status (API JSON, or Mastodon.py's dict of it) to radpulse records.

Statuses are read from their JSON text as the instance sent it (see `schema`), which is also
what is stored as the raw payload of the post and of its account; dicts are accepted too.

Identity: a status federates to many instances, each giving it its own local `id`; its ActivityPub
`uri` is the same everywhere, so the URI is the post's `external_id` (hashed when longer than the
column) and the instance it was read from is its `community`. Authors are keyed on the account's
canonical profile `url`, with the full `user@domain` as handle.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import msgspec

from radpulse.collectors.payloads import as_json, count, known_author, read, unique, unreadable
from radpulse.records import AuthorRecord, PostRecord, Quarantined
from radpulse.safeurl import safe_http_url

from .html import html_to_text, html_to_text_and_links
from .schema import ACCOUNT, STATUS, STATUSES, Account, Status

PLATFORM = "mastodon"
#: what a payload that does not fit is said not to match
SCHEMA = "the Mastodon API"
#: posts.external_id is VARCHAR(300)
MAX_ID_LENGTH = 300
_UTC = dt.timezone.utc


def status_external_id(uri: str) -> str:
    """The stored key of a status: its canonical URI, or a stable hash of a very long one."""
    if len(uri) <= MAX_ID_LENGTH:
        return uri
    return "sha256:" + hashlib.sha256(uri.encode("utf-8")).hexdigest()


def parse_time(value: Any) -> dt.datetime:
    """An API timestamp ('2026-08-01T13:55:55.867Z' or a datetime) as aware UTC."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)
    if not isinstance(value, str) or not value:
        raise ValueError(f"created_at is missing or not a timestamp: {value!r}")
    parsed = dt.datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    return parsed.replace(tzinfo=_UTC) if parsed.tzinfo is None else parsed.astimezone(_UTC)


def jsonable(value: Any) -> Any:
    """Mastodon.py's parsed objects (datetimes inside) back to plain JSON values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date)):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(_UTC)
        return value.isoformat().replace("+00:00", "Z")
    return value


def _present(raw: msgspec.Raw | None) -> bytes | None:
    """The JSON of an optional raw field, None when it is missing or null."""
    if raw is None:
        return None
    data = bytes(raw)
    return None if data == b"null" else data


def decode_statuses(body: bytes) -> list[msgspec.Raw]:
    """The statuses of a timeline answer, each its JSON as sent; ValueError when it is not a list."""
    return read(STATUSES, body, "the answer", SCHEMA)  # type: ignore[no-any-return]


def _host(url: str | None) -> str | None:
    return urlsplit(url).netloc or None if url else None


def full_acct(account: Account) -> str | None:
    """The account's `user@domain` (local accounts have no domain in `acct`)."""
    acct = account.acct or account.username
    if not acct:
        return None
    if "@" in acct:
        return acct
    host = _host(account.url) or _host(account.uri)
    return f"{acct}@{host}" if host else acct


def normalise_account(account: bytes | msgspec.Raw | Mapping[str, Any]) -> AuthorRecord:
    """An account as an AuthorRecord keyed on its canonical profile URL; its JSON is kept as sent."""
    data = as_json(account, jsonable)
    doc: Account = read(ACCOUNT, data, "account", SCHEMA)
    handle = full_acct(doc)
    external_id = doc.url or doc.uri or handle
    if not external_id:
        raise ValueError("account has neither url, uri nor acct")
    return AuthorRecord(
        platform=PLATFORM,
        external_id=external_id,
        handle=handle,
        display_name=doc.display_name or None,
        bio=html_to_text(doc.note) or None,
        followers=count(doc.followers_count),
        following=count(doc.following_count),
        verified=None,
        url=doc.url,
        raw=data,
    )


def normalise_status(
    status: bytes | msgspec.Raw | Mapping[str, Any],
    instance: str,
    *,
    retrieved_at: dt.datetime,
    provenance: dict[str, Any] | None = None,
    authors: dict[bytes, AuthorRecord] | None = None,
) -> tuple[PostRecord, AuthorRecord]:
    """One (non-boost) status (its JSON as sent, or a dict) as a PostRecord and its author;
    raises ValueError naming what is unusable. The status's and the account's JSON are kept as sent.

    `authors` remembers accounts by their JSON across pages (collectors.payloads.known_author).
    """
    data = as_json(status, jsonable)
    doc: Status = read(STATUS, data, "status", SCHEMA)
    return _status_record(doc, data, instance, retrieved_at, provenance, authors)


def _status_record(
    doc: Status, data: bytes, instance: str, retrieved_at: dt.datetime, provenance: dict[str, Any] | None,
    authors: dict[bytes, AuthorRecord] | None,
) -> tuple[PostRecord, AuthorRecord]:
    uri = doc.uri
    if not uri:
        raise ValueError("status has no uri")
    account = _present(doc.account)
    if account is None:
        raise ValueError("status has no account")
    author: AuthorRecord = known_author(authors, account, normalise_account)
    text, anchor_links = html_to_text_and_links(doc.content)
    card_url = doc.card.url if doc.card is not None else None
    quoted = doc.quote.quoted_status.uri if doc.quote is not None and doc.quote.quoted_status is not None else None
    post = PostRecord(
        platform=PLATFORM,
        external_id=status_external_id(uri),
        text=text,
        created_at=parse_time(doc.created_at),
        author_external_id=author.external_id,
        url=safe_http_url(doc.url) or safe_http_url(uri),
        title=doc.spoiler_text or None,
        language=doc.language or None,
        community=instance,
        reply_count=count(doc.replies_count),
        like_count=count(doc.favourites_count),
        repost_count=count(doc.reblogs_count),
        quote_count=count(doc.quotes_count),
        metrics_read_at=retrieved_at,
        has_media=bool(doc.media_attachments),
        in_reply_to_id=str(doc.in_reply_to_id) if doc.in_reply_to_id else None,
        quoted_id=status_external_id(quoted) if quoted else None,
        links=unique([*anchor_links, card_url] if card_url else anchor_links),
        hashtags=unique([t.name for t in doc.tags]) if doc.tags else [],
        mentions=unique([m.acct for m in doc.mentions]) if doc.mentions else [],
        raw=data,
        provenance=provenance,
    )
    return post, author


def normalise_page(
    statuses: Iterable[bytes | msgspec.Raw | Mapping[str, Any]],
    instance: str,
    *,
    retrieved_at: dt.datetime,
    provenance: dict[str, Any] | None = None,
    known_authors: dict[bytes, AuthorRecord] | None = None,
) -> tuple[list[PostRecord], list[AuthorRecord], list[Quarantined]]:
    """A timeline page: posts deduplicated by URI (largest counts kept), authors, rejects.

    `known_authors` is the collection run's memo of accounts already read, by their JSON as sent
    (collectors.payloads.known_author), shared by its pages; without it, one for the page.

    A boost (`reblog` set) yields the boosted status as the post, plus a record of the boost
    itself (no text, `reposted_id` = the boosted status's key) so the repost relation is kept.
    """
    posts: dict[str, PostRecord] = {}
    authors: dict[str, AuthorRecord] = {}
    rejected: list[Quarantined] = []
    by_json: dict[bytes, AuthorRecord] = {} if known_authors is None else known_authors

    def add(doc: Status, data: bytes) -> PostRecord:
        post, author = _status_record(doc, data, instance, retrieved_at, provenance, by_json)
        authors[author.external_id] = author
        old = posts.get(post.external_id)
        posts[post.external_id] = merge_best(old, post) if old else post
        return post

    for status in statuses:
        try:
            data = as_json(status, jsonable)
            doc: Status = read(STATUS, data, "status", SCHEMA)
            boosted = _present(doc.reblog)
            if boosted is None:
                add(doc, data)
                continue
            original = add(read(STATUS, boosted, "boosted status", SCHEMA), boosted)
            account = _present(doc.account)
            if account is None:
                raise ValueError("boost has no account")
            booster = normalise_account(account)
            authors[booster.external_id] = booster
            if not doc.uri:
                raise ValueError("boost has no uri")
            boost = PostRecord(
                platform=PLATFORM, external_id=status_external_id(doc.uri), text=None,
                created_at=parse_time(doc.created_at), author_external_id=booster.external_id,
                url=safe_http_url(doc.url) or safe_http_url(doc.uri), community=instance,
                reposted_id=original.external_id,
                raw=data, provenance=provenance,
            )
            posts.setdefault(boost.external_id, boost)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            value, ident = unreadable(status, jsonable)
            rejected.append(Quarantined(raw=value, error=f"{type(exc).__name__}: {exc}", external_id=ident))
    return list(posts.values()), list(authors.values()), rejected


def merge_best(a: PostRecord, b: PostRecord) -> PostRecord:
    """The same status read twice (two instances): keep `b` with the larger of each count."""
    for name in ("reply_count", "like_count", "repost_count", "quote_count"):
        x, y = getattr(a, name), getattr(b, name)
        if x is not None and (y is None or x > y):
            setattr(b, name, x)
    return b
