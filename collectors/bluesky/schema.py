"""The parts of Bluesky's lexicons radpulse reads, as msgspec structs.

An XRPC answer is decoded in two steps. The envelope (`app.bsky.feed.searchPosts#output`,
`app.bsky.feed.getPosts#output`) is read with each post left as `msgspec.Raw`: the post's JSON
exactly as the server sent it, which is what radpulse stores as its raw payload (no decode to
Python objects and re-encode). Each post is then read into `PostView`, which names only the
fields radpulse uses; everything else in the payload (embed views, labels, viewer state, ...) is
skipped by the decoder without being built. A field of the wrong type fails with msgspec's
message naming its path (`Expected `str`, got `int` - at `$.record.createdAt``).
"""

from __future__ import annotations

from typing import Any

import msgspec


class StrongRef(msgspec.Struct):
    """com.atproto.repo.strongRef (only the URI is used)."""

    uri: str | None = None


class ReplyRef(msgspec.Struct):
    """app.bsky.feed.post#replyRef."""

    parent: StrongRef | None = None
    root: StrongRef | None = None


class Feature(msgspec.Struct, rename={"type": "$type"}):
    """A facet feature: #link (uri), #tag (tag) or #mention (did)."""

    type: str = ""
    uri: str | None = None
    tag: str | None = None
    did: str | None = None


class Facet(msgspec.Struct):
    """app.bsky.richtext.facet (the byte slice it covers is not needed)."""

    features: list[Feature] = []


class EmbedRecord(msgspec.Struct):
    """The `record` of an embed: a strongRef ({uri}) in #record, an #record ({record}) in
    #recordWithMedia."""

    uri: str | None = None
    record: StrongRef | None = None


class Embed(msgspec.Struct, rename={"type": "$type"}):
    """The record's embed: images, video, external link, quoted record, or record with media."""

    type: str = ""
    external: StrongRef | None = None  # app.bsky.embed.external#external: its uri is the link
    record: EmbedRecord | None = None
    media: Embed | None = None


class FeedPost(msgspec.Struct, rename={"created_at": "createdAt"}):
    """app.bsky.feed.post: the record inside a PostView."""

    text: str = ""
    created_at: str | None = None
    langs: list[str] | None = None
    facets: list[Facet] | None = None
    embed: Embed | None = None
    reply: ReplyRef | None = None
    tags: list[str] | None = None


class Profile(msgspec.Struct, rename="camel"):
    """app.bsky.actor.defs#profileViewBasic (and the wider profile views)."""

    did: str
    handle: str | None = None
    display_name: str | None = None
    description: str | None = None
    followers_count: Any = None
    follows_count: Any = None


class PostView(msgspec.Struct, rename="camel"):
    """app.bsky.feed.defs#postView; `author` stays raw so it is stored as sent."""

    uri: str
    author: msgspec.Raw
    record: FeedPost
    reply_count: Any = None
    like_count: Any = None
    repost_count: Any = None
    quote_count: Any = None
    indexed_at: str | None = None


class _Created(msgspec.Struct, rename="camel"):
    created_at: Any = None


class SortTimes(msgspec.Struct, rename="camel"):
    """Just what searchPosts's `since` filters on: indexedAt and the record's createdAt."""

    indexed_at: Any = None
    record: _Created | None = None


class PostsPage(msgspec.Struct):
    """The output of searchPosts (with its cursor) and of getPosts: posts left raw."""

    posts: list[msgspec.Raw]
    cursor: str | None = None


POSTS_PAGE = msgspec.json.Decoder(PostsPage)
POST_VIEW = msgspec.json.Decoder(PostView)
PROFILE = msgspec.json.Decoder(Profile)
SORT_TIMES = msgspec.json.Decoder(SortTimes)

__all__ = ["POSTS_PAGE", "POST_VIEW", "PROFILE", "SORT_TIMES", "PostView", "PostsPage", "Profile"]
