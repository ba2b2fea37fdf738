"""Pure functions: a Mastodon status (API JSON, or Mastodon.py's dict of it) to radpulse records.

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

from radpulse.collectors.base import AuthorRecord, PostRecord, Quarantined

from .html import html_to_text, html_to_text_and_links

PLATFORM = "mastodon"
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


def _plain(value: Mapping[str, Any]) -> dict[str, Any]:
    """The payload as JSON: API dicts as they are, Mastodon.py's objects converted."""
    return value if type(value) is dict else jsonable(value)


def _count(value: Any) -> int | None:
    return value if type(value) is int else None


def _host(url: str | None) -> str | None:
    return urlsplit(url).netloc or None if url else None


def full_acct(account: Mapping[str, Any]) -> str | None:
    """The account's `user@domain` (local accounts have no domain in `acct`)."""
    acct = account.get("acct") or account.get("username")
    if not acct:
        return None
    if "@" in acct:
        return acct
    host = _host(account.get("url")) or _host(account.get("uri"))
    return f"{acct}@{host}" if host else acct


def normalise_account(account: Mapping[str, Any]) -> AuthorRecord:
    """An account as an AuthorRecord keyed on its canonical profile URL."""
    handle = full_acct(account)
    external_id = account.get("url") or account.get("uri") or handle
    if not external_id:
        raise ValueError("account has neither url, uri nor acct")
    return AuthorRecord(
        platform=PLATFORM,
        external_id=external_id,
        handle=handle,
        display_name=account.get("display_name") or None,
        bio=html_to_text(account.get("note")) or None,
        followers=_count(account.get("followers_count")),
        following=_count(account.get("following_count")),
        verified=None,
        url=account.get("url"),
        raw=_plain(account),
    )


def _unique(items: Iterable[str]) -> list[str]:
    """Non-empty items, first occurrence kept, in order."""
    out = list(dict.fromkeys(items))
    return [x for x in out if x] if "" in out or None in out else out


def _quoted_uri(status: Mapping[str, Any]) -> str | None:
    """The URI of the status this one quotes (Mastodon 4.5+ `quote.quoted_status`)."""
    quote = status.get("quote")
    if isinstance(quote, Mapping):
        quoted = quote.get("quoted_status")
        if isinstance(quoted, Mapping) and quoted.get("uri"):
            return status_external_id(quoted["uri"])
    return None


def normalise_status(
    status: Mapping[str, Any],
    instance: str,
    *,
    retrieved_at: dt.datetime,
    provenance: dict[str, Any] | None = None,
    raw: dict[str, Any] | None = None,
    authors: dict[str, AuthorRecord] | None = None,
) -> tuple[PostRecord, AuthorRecord]:
    """One (non-boost) status as a PostRecord and its author; raises ValueError when unusable.

    `authors` caches accounts by profile URL across a page (a tag page repeats its posters).
    """
    uri = status.get("uri")
    if not uri:
        raise ValueError("status has no uri")
    account = status.get("account")
    if not isinstance(account, Mapping):
        raise ValueError("status has no account")
    key = account.get("url")
    author = authors.get(key) if authors is not None and key else None
    if author is None:
        author = normalise_account(account)
        if authors is not None and key:
            authors[key] = author
    text, anchor_links = html_to_text_and_links(status.get("content"))
    card = status.get("card")
    card_url = card.get("url") if isinstance(card, Mapping) else None
    tags = status.get("tags") or ()
    mentions = status.get("mentions") or ()
    post = PostRecord(
        platform=PLATFORM,
        external_id=status_external_id(uri),
        text=text,
        created_at=parse_time(status.get("created_at")),
        author_external_id=author.external_id,
        url=status.get("url") or uri,
        title=status.get("spoiler_text") or None,
        language=status.get("language") or None,
        community=instance,
        reply_count=_count(status.get("replies_count")),
        like_count=_count(status.get("favourites_count")),
        repost_count=_count(status.get("reblogs_count")),
        quote_count=_count(status.get("quotes_count")),
        metrics_read_at=retrieved_at,
        has_media=bool(status.get("media_attachments")),
        in_reply_to_id=str(status["in_reply_to_id"]) if status.get("in_reply_to_id") else None,
        quoted_id=_quoted_uri(status),
        links=_unique([*anchor_links, card_url] if card_url else anchor_links),
        hashtags=_unique(t.get("name", "") for t in tags if isinstance(t, Mapping)),
        mentions=_unique(m.get("acct", "") for m in mentions if isinstance(m, Mapping)),
        raw=raw if raw is not None else _plain(status),
        provenance=provenance,
    )
    return post, author


def normalise_page(
    statuses: Iterable[Mapping[str, Any]],
    instance: str,
    *,
    retrieved_at: dt.datetime,
    provenance: dict[str, Any] | None = None,
) -> tuple[list[PostRecord], list[AuthorRecord], list[Quarantined]]:
    """A timeline page: posts deduplicated by URI (largest counts kept), authors, rejects.

    A boost (`reblog` set) yields the boosted status as the post, plus a record of the boost
    itself (no text, `reposted_id` = the boosted status's key) so the repost relation is kept.
    """
    posts: dict[str, PostRecord] = {}
    authors: dict[str, AuthorRecord] = {}
    rejected: list[Quarantined] = []
    by_url: dict[str, AuthorRecord] = {}

    def add(status: Mapping[str, Any]) -> PostRecord:
        post, author = normalise_status(status, instance, retrieved_at=retrieved_at, provenance=provenance,
                                        authors=by_url)
        authors[author.external_id] = author
        old = posts.get(post.external_id)
        posts[post.external_id] = merge_best(old, post) if old else post
        return post

    for status in statuses:
        try:
            boosted = status.get("reblog")
            if isinstance(boosted, Mapping):
                original = add(boosted)
                account = status.get("account") or {}
                booster = normalise_account(account)
                authors[booster.external_id] = booster
                uri = status.get("uri") or ""
                if not uri:
                    raise ValueError("boost has no uri")
                boost = PostRecord(
                    platform=PLATFORM, external_id=status_external_id(uri), text=None,
                    created_at=parse_time(status.get("created_at")), author_external_id=booster.external_id,
                    url=status.get("url") or uri, community=instance, reposted_id=original.external_id,
                    raw=_plain(status), provenance=provenance,
                )
                posts.setdefault(boost.external_id, boost)
            else:
                add(status)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            ident = status.get("uri") if isinstance(status, Mapping) else None
            rejected.append(Quarantined(raw=jsonable(status), error=f"{type(exc).__name__}: {exc}", external_id=ident))
    return list(posts.values()), list(authors.values()), rejected


def merge_best(a: PostRecord, b: PostRecord) -> PostRecord:
    """The same status read twice (two instances): keep `b` with the larger of each count."""
    for name in ("reply_count", "like_count", "repost_count", "quote_count"):
        x, y = getattr(a, name), getattr(b, name)
        if x is not None and (y is None or x > y):
            setattr(b, name, x)
    return b
