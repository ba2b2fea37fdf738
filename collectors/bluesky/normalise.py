"""Pure functions: Bluesky PostView JSON (app.bsky.feed.defs#postView) to radpulse records.

A post is keyed on its `at://` URI; its author on the DID. Links come from the record's link
facets and its external embed (also inside recordWithMedia), tags from tag facets and the record's
`tags`, mentions (DIDs) from mention facets - never from the text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from radpulse.collectors.base import AuthorRecord, PostRecord, Quarantined

PLATFORM = "bluesky"
_UTC = dt.timezone.utc
LINK = "app.bsky.richtext.facet#link"
TAG = "app.bsky.richtext.facet#tag"
MENTION = "app.bsky.richtext.facet#mention"
_MEDIA = ("app.bsky.embed.images", "app.bsky.embed.video", "app.bsky.embed.gallery")


def parse_time(value: Any) -> dt.datetime:
    """An atproto datetime ('2024-11-30T16:20:25.023354Z', '+00:00', no zone) as aware UTC."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a datetime: {value!r}")
    text = value[:-1] + "+00:00" if value[-1] in "Zz" else value
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        # more than 6 fractional digits (allowed by the spec): cut to microseconds
        head, _, rest = text.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits):]
        parsed = dt.datetime.fromisoformat(f"{head}.{digits[:6]}{zone}")
    return parsed.replace(tzinfo=_UTC) if parsed.tzinfo is None else parsed.astimezone(_UTC)


def rkey(uri: str) -> str:
    """The record key: the last segment of an at:// URI."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


def post_url(uri: str, handle: str | None, did: str | None) -> str:
    """https://bsky.app/profile/<handle>/post/<rkey> (the DID when the handle is invalid)."""
    who = handle if handle and handle != "handle.invalid" else did or uri.split("/")[2]
    return f"https://bsky.app/profile/{who}/post/{rkey(uri)}"


def _unique(items: Iterable[str | None]) -> list[str]:
    """Non-empty items, first occurrence kept, in order."""
    out = list(dict.fromkeys(items))
    return [x for x in out if x] if "" in out or None in out else out  # type: ignore[misc]


def _embed_parts(embed: Any) -> tuple[bool, str | None, str | None]:
    """(has media, external link, quoted URI) of a record's embed."""
    if not isinstance(embed, Mapping):
        return False, None, None
    kind = embed.get("$type", "")
    if kind in _MEDIA:
        return True, None, None
    if kind == "app.bsky.embed.external":
        ext = embed.get("external") or {}
        return False, ext.get("uri"), None
    if kind == "app.bsky.embed.record":
        return False, None, (embed.get("record") or {}).get("uri")
    if kind == "app.bsky.embed.recordWithMedia":
        media, link, _ = _embed_parts(embed.get("media"))
        quoted = ((embed.get("record") or {}).get("record") or {}).get("uri")
        return media, link, quoted
    return False, None, None


def facets_of(record: Mapping[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """(links, tags, mention DIDs) from the record's rich-text facets."""
    links: list[str] = []
    tags: list[str] = []
    mentions: list[str] = []
    for facet in record.get("facets") or ():
        for feature in facet.get("features") or ():
            kind = feature.get("$type")
            if kind == LINK:
                links.append(feature.get("uri"))
            elif kind == TAG:
                tags.append((feature.get("tag") or "").lstrip("#"))
            elif kind == MENTION:
                mentions.append(feature.get("did"))
    return links, tags, mentions


def normalise_author(author: Mapping[str, Any]) -> AuthorRecord:
    """A profileViewBasic as an AuthorRecord keyed on the DID."""
    did = author.get("did")
    if not did:
        raise ValueError("author has no did")
    handle = author.get("handle")
    return AuthorRecord(
        platform=PLATFORM,
        external_id=did,
        handle=handle,
        display_name=author.get("displayName") or None,
        bio=author.get("description") or None,
        followers=author.get("followersCount"),
        following=author.get("followsCount"),
        verified=None,
        url=f"https://bsky.app/profile/{handle if handle and handle != 'handle.invalid' else did}",
        raw=dict(author),
    )


def _count(value: Any) -> int | None:
    return value if type(value) is int else None


def sort_at(view: Mapping[str, Any]) -> str | None:
    """The post's sortAt as searchPosts's `since` filters it: the earlier of createdAt and indexedAt."""
    record = view.get("record") or {}
    times = []
    for value in (record.get("createdAt"), view.get("indexedAt")):
        try:
            times.append(parse_time(value))
        except ValueError:
            continue
    return min(times).isoformat(timespec="microseconds").replace("+00:00", "Z") if times else None


def normalise_post(
    view: Mapping[str, Any], *, retrieved_at: dt.datetime, provenance: dict[str, Any] | None = None
) -> tuple[PostRecord, AuthorRecord]:
    """One PostView as a PostRecord and its author; raises ValueError when unusable."""
    uri = view.get("uri")
    if not uri or not str(uri).startswith("at://"):
        raise ValueError(f"post has no at:// uri: {uri!r}")
    record = view.get("record")
    if not isinstance(record, Mapping):
        raise ValueError("post has no record")
    author = normalise_author(view.get("author") or {})
    links, tags, mentions = facets_of(record)
    media, ext_link, quoted = _embed_parts(record.get("embed"))
    reply = record.get("reply") or {}
    langs = record.get("langs") or ()
    post = PostRecord(
        platform=PLATFORM,
        external_id=uri,
        text=record.get("text") or "",
        created_at=parse_time(record.get("createdAt") or view.get("indexedAt")),
        author_external_id=author.external_id,
        url=post_url(uri, author.handle, author.external_id),
        language=langs[0] if langs else None,
        reply_count=_count(view.get("replyCount")),
        like_count=_count(view.get("likeCount")),
        repost_count=_count(view.get("repostCount")),
        quote_count=_count(view.get("quoteCount")),
        metrics_read_at=retrieved_at,
        has_media=media,
        in_reply_to_id=(reply.get("parent") or {}).get("uri"),
        conversation_id=(reply.get("root") or {}).get("uri"),
        quoted_id=quoted,
        links=_unique([*links, ext_link]),
        hashtags=_unique([*tags, *(t.lstrip("#") for t in record.get("tags") or ())]),
        mentions=_unique(mentions),
        raw=view if type(view) is dict else dict(view),
        provenance=provenance,
    )
    return post, author


def normalise_page(
    views: Iterable[Mapping[str, Any]],
    *,
    retrieved_at: dt.datetime,
    provenance: dict[str, Any] | None = None,
    languages: Iterable[str] = (),
) -> tuple[list[PostRecord], list[AuthorRecord], list[Quarantined]]:
    """A page of PostViews: posts (one per URI), their authors, and the ones that could not be read.

    With `languages`, posts declaring other languages are dropped (posts declaring none are kept).
    """
    wanted = {lang.lower() for lang in languages}
    posts: dict[str, PostRecord] = {}
    authors: dict[str, AuthorRecord] = {}
    rejected: list[Quarantined] = []
    for view in views:
        try:
            post, author = normalise_post(view, retrieved_at=retrieved_at, provenance=provenance)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            ident = view.get("uri") if isinstance(view, Mapping) else None
            rejected.append(Quarantined(raw=view, error=f"{type(exc).__name__}: {exc}", external_id=ident))
            continue
        if wanted:
            langs = {str(x).lower().split("-")[0] for x in (view.get("record") or {}).get("langs") or ()}
            if langs and not (langs & {w.split("-")[0] for w in wanted}):
                continue
        posts[post.external_id] = post
        authors[author.external_id] = author
    return list(posts.values()), list(authors.values()), rejected
