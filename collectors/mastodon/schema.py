"""The parts of Mastodon's REST entities radpulse reads, as msgspec structs.

A timeline answer is read from the bytes the instance sent: first as a list of `msgspec.Raw`
(each status's JSON exactly as sent, which is what radpulse stores as its raw payload), then each
status into `Status`, which names only the fields radpulse uses. Everything else (emojis, the
media attachments' metadata, polls, filters, the quoted status in full, ...) is skipped by the
decoder without being built. A field of the wrong type fails with msgspec's message naming its
path (`Expected `str | null`, got `int` - at `$.content``).
"""

from __future__ import annotations

from typing import Any

import msgspec


class Account(msgspec.Struct):
    """Account: the fields of an AuthorRecord."""

    url: str | None = None
    uri: str | None = None
    acct: str | None = None
    username: str | None = None
    display_name: str | None = None
    note: str | None = None
    followers_count: Any = None
    following_count: Any = None


class Tag(msgspec.Struct):
    name: str = ""


class Mention(msgspec.Struct):
    acct: str = ""


class Card(msgspec.Struct):
    url: str | None = None


class _Uri(msgspec.Struct):
    uri: str | None = None


class Quote(msgspec.Struct):
    """Quote / ShallowQuote (Mastodon 4.5+): only the quoted status's URI is used."""

    quoted_status: _Uri | None = None


class Status(msgspec.Struct):
    """Status; `account` and `reblog` stay raw so that each is stored as sent."""

    uri: str | None = None
    account: msgspec.Raw = None  # type: ignore[assignment]  # missing: None; null: Raw(b"null")
    id: Any = None
    url: str | None = None
    created_at: Any = None
    content: str | None = None
    spoiler_text: str | None = None
    language: str | None = None
    replies_count: Any = None
    reblogs_count: Any = None
    favourites_count: Any = None
    quotes_count: Any = None
    in_reply_to_id: Any = None
    media_attachments: list[msgspec.Raw] | None = None
    card: Card | None = None
    tags: list[Tag] | None = None
    mentions: list[Mention] | None = None
    quote: Quote | None = None
    reblog: msgspec.Raw = None  # type: ignore[assignment]


STATUSES = msgspec.json.Decoder(list[msgspec.Raw])
STATUS = msgspec.json.Decoder(Status)
ACCOUNT = msgspec.json.Decoder(Account)

__all__ = ["ACCOUNT", "STATUS", "STATUSES", "Account", "Status"]
