"""Pure functions: Bluesky PostView JSON (app.bsky.feed.defs#postView) to radpulse records.

Views are read from their JSON text as the server sent it (see `schema`), which is also what is
stored as the raw payload of the post and of its author; dicts are accepted too and encoded first.
A post is keyed on its `at://` URI; its author on the DID. Links come from the record's link
facets and its external embed (also inside recordWithMedia), tags from tag facets and the record's
`tags`, mentions (DIDs) from mention facets - never from the text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from radpulse.collectors.payloads import as_json, count, known_author, read, unique, unreadable
from radpulse.records import AuthorRecord, PostRecord, Quarantined

from .schema import POST_VIEW, POSTS_PAGE, PROFILE, SORT_TIMES, Embed, FeedPost, PostView

PLATFORM = "bluesky"
_UTC = dt.timezone.utc
LINK = "app.bsky.richtext.facet#link"
TAG = "app.bsky.richtext.facet#tag"
MENTION = "app.bsky.richtext.facet#mention"
#: what a payload that does not fit is said not to match
SCHEMA = "the lexicon"
_MEDIA = ("app.bsky.embed.images", "app.bsky.embed.video", "app.bsky.embed.gallery")


def parse_time(value: Any) -> dt.datetime:
    """An atproto datetime ('2024-11-30T16:20:25.023354Z', '+00:00', no zone) as aware UTC."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a datetime: {value!r}")
    text = value[:-1] + "+00:00" if value[-1] == "z" else value  # 'Z' and 7+ digits parse as they are
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


def _embed_parts(embed: Embed | None) -> tuple[bool, str | None, str | None]:
    """(has media, external link, quoted URI) of a record's embed."""
    if embed is None:
        return False, None, None
    kind = embed.type
    if kind in _MEDIA:
        return True, None, None
    if kind == "app.bsky.embed.external":
        return False, embed.external.uri if embed.external else None, None
    if kind == "app.bsky.embed.record":
        return False, None, embed.record.uri if embed.record else None
    if kind == "app.bsky.embed.recordWithMedia":
        media, link, _ = _embed_parts(embed.media)
        quoted = embed.record.record.uri if embed.record and embed.record.record else None
        return media, link, quoted
    return False, None, None


def facets_of(record: FeedPost) -> tuple[list[str], list[str], list[str]]:
    """(links, tags, mention DIDs) from the record's rich-text facets."""
    links: list[str] = []
    tags: list[str] = []
    mentions: list[str] = []
    for facet in record.facets or ():
        for feature in facet.features:
            kind = feature.type
            if kind == LINK:
                links.append(feature.uri)  # type: ignore[arg-type]
            elif kind == TAG:
                tags.append((feature.tag or "").lstrip("#"))
            elif kind == MENTION:
                mentions.append(feature.did)  # type: ignore[arg-type]
    return links, tags, mentions


def normalise_author(author: bytes | msgspec.Raw | Mapping[str, Any]) -> AuthorRecord:
    """A profileViewBasic as an AuthorRecord keyed on the DID; its JSON is kept as sent."""
    return _author(as_json(author))


def _author(data: bytes) -> AuthorRecord:
    profile = read(PROFILE, data, "author", SCHEMA)
    did = profile.did
    if not did:
        raise ValueError("author has no did")
    handle = profile.handle
    return AuthorRecord(
        platform=PLATFORM,
        external_id=did,
        handle=handle,
        display_name=profile.display_name or None,
        bio=profile.description or None,
        followers=count(profile.followers_count),
        following=count(profile.follows_count),
        verified=None,
        url=f"https://bsky.app/profile/{handle if handle and handle != 'handle.invalid' else did}",
        raw=data,
    )


def sort_at(view: bytes | msgspec.Raw | Mapping[str, Any]) -> str | None:
    """The post's sortAt as searchPosts's `since` filters it: the earlier of createdAt and indexedAt."""
    if isinstance(view, Mapping):
        record = view.get("record")
        values = ((record.get("createdAt") if isinstance(record, Mapping) else None), view.get("indexedAt"))
    else:
        try:
            found = SORT_TIMES.decode(view if isinstance(view, bytes) else bytes(view))  # checked when normalised
        except msgspec.MsgspecError:
            return None
        values = (found.record.created_at if found.record else None, found.indexed_at)
    times = []
    for value in values:
        try:
            times.append(parse_time(value))
        except ValueError:
            continue
    return min(times).isoformat(timespec="microseconds").replace("+00:00", "Z") if times else None


def normalise_post(
    view: bytes | msgspec.Raw | Mapping[str, Any], *, retrieved_at: dt.datetime,
    provenance: dict[str, Any] | None = None,
) -> tuple[PostRecord, AuthorRecord]:
    """One PostView (its JSON as sent, or a dict) as a PostRecord and its author; raises
    ValueError naming what is unusable. The post's and the author's JSON are kept as sent."""
    post, author, _ = _normalise(as_json(view), retrieved_at, provenance)
    return post, author


def _normalise(
    data: bytes, retrieved_at: dt.datetime, provenance: dict[str, Any] | None,
    known_authors: dict[bytes, AuthorRecord] | None = None,
) -> tuple[PostRecord, AuthorRecord, list[str] | None]:
    """normalise_post, plus the languages the record declares."""
    doc: PostView = read(POST_VIEW, data, "post", SCHEMA)
    uri = doc.uri
    if not uri.startswith("at://"):
        raise ValueError(f"post has no at:// uri: {uri!r}")
    # a slice of the post's JSON, checked with it
    author: AuthorRecord = known_author(known_authors, bytes(doc.author), _author)
    record = doc.record
    links, tags, mentions = facets_of(record)
    media, ext_link, quoted = _embed_parts(record.embed)
    if ext_link:
        links.append(ext_link)
    if record.tags:
        tags += [t.lstrip("#") for t in record.tags]
    reply = record.reply
    langs = record.langs
    post = PostRecord(
        platform=PLATFORM,
        external_id=uri,
        text=record.text or "",
        created_at=parse_time(record.created_at or doc.indexed_at),
        author_external_id=author.external_id,
        url=post_url(uri, author.handle, author.external_id),
        language=langs[0] if langs else None,
        reply_count=count(doc.reply_count),
        like_count=count(doc.like_count),
        repost_count=count(doc.repost_count),
        quote_count=count(doc.quote_count),
        metrics_read_at=retrieved_at,
        has_media=media,
        in_reply_to_id=reply.parent.uri if reply and reply.parent else None,
        conversation_id=reply.root.uri if reply and reply.root else None,
        quoted_id=quoted,
        links=unique(links),
        hashtags=unique(tags),
        mentions=unique(mentions),
        raw=data,
        provenance=provenance,
    )
    return post, author, langs


def decode_posts(body: bytes) -> tuple[list[msgspec.Raw], str | None]:
    """The posts (each its JSON as sent) and the cursor of a searchPosts or getPosts answer.

    Raises ValueError naming the problem when the answer is not such an object.
    """
    page = read(POSTS_PAGE, body, "the answer", SCHEMA)
    return page.posts, page.cursor


def normalise_page(
    views: Iterable[bytes | msgspec.Raw | Mapping[str, Any]],
    *,
    retrieved_at: dt.datetime,
    provenance: dict[str, Any] | None = None,
    languages: Iterable[str] = (),
    known_authors: dict[bytes, AuthorRecord] | None = None,
) -> tuple[list[PostRecord], list[AuthorRecord], list[Quarantined]]:
    """A page of PostViews: posts (one per URI), their authors, and the ones that could not be read.

    With `languages`, posts declaring other languages are dropped (posts declaring none are kept).
    `known_authors` is the collection run's memo of profiles already read (collectors.payloads.known_author),
    shared by its pages.
    """
    wanted = {lang.lower().split("-")[0] for lang in languages}
    posts: dict[str, PostRecord] = {}
    authors: dict[str, AuthorRecord] = {}
    rejected: list[Quarantined] = []
    for view in views:
        try:
            post, author, langs = _normalise(as_json(view), retrieved_at, provenance, known_authors)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            value, ident = unreadable(view)
            rejected.append(Quarantined(raw=value, error=f"{type(exc).__name__}: {exc}", external_id=ident))
            continue
        if wanted and langs and not ({str(x).lower().split("-")[0] for x in langs} & wanted):
            continue  # posts that declare no language are kept
        posts[post.external_id] = post
        authors[author.external_id] = author
    return list(posts.values()), list(authors.values()), rejected
