"""Pure functions turning X payloads (API v2 JSON, and v1.1-style archive tweets) into records.

They work on the decoded JSON dicts directly (no tweepy model objects), because this is the hot
path of collection and of archive import. The X collector, the twarc importer and the X account
archive importer all normalise through this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from radpulse.collectors.payloads import known_author
from radpulse.records import JSON, AuthorRecord, PostRecord, Quarantined

PLATFORM = "x"
#: X snowflake ids carry their creation time: milliseconds since this epoch in the bits above 22
SNOWFLAKE_EPOCH_MS = 1288834974657
#: the first snowflake id (November 2010); older ids carry no timestamp
FIRST_SNOWFLAKE = 29_700_859_247
_UTC = dt.timezone.utc
_V1_TIME = "%a %b %d %H:%M:%S %z %Y"


class MissingField(ValueError):
    """A tweet lacks a field radpulse cannot do without."""


def snowflake_time(tweet_id: str | int) -> dt.datetime:
    """The creation time encoded in an X snowflake id (UTC, millisecond precision)."""
    value = int(tweet_id)
    if value < FIRST_SNOWFLAKE:
        raise MissingField(f"created_at missing and id {tweet_id} predates snowflake ids")
    ms = (value >> 22) + SNOWFLAKE_EPOCH_MS
    try:
        return dt.datetime.fromtimestamp(ms / 1000, tz=_UTC)
    except (OverflowError, OSError, ValueError):
        raise MissingField(f"created_at missing and id {str(tweet_id)[:40]} is not a snowflake id "
                           "(its time would be past the year 9999)") from None


def parse_time(value: str) -> dt.datetime:
    """An X timestamp (v2 ISO 8601 '...Z' or v1.1 'Wed Oct 10 20:19:24 +0000 2018') as UTC."""
    if value[:4].isdigit():
        parsed = dt.datetime.fromisoformat(value)
    else:
        parsed = dt.datetime.strptime(value, _V1_TIME)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=_UTC)
    return parsed.astimezone(_UTC)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _tweet_id(tweet: Mapping[str, Any], key: str = "id") -> str:
    value = tweet.get(key)
    if value is None or value == "":
        raise MissingField(f"tweet has no {key!r}")
    value = str(value)
    if not value.isdigit():
        raise MissingField(f"tweet {key} {value!r} is not a numeric X id")
    return value


def status_url(tweet_id: str, username: str | None) -> str:
    """The public address of a post."""
    if username:
        return f"https://x.com/{username}/status/{tweet_id}"
    return f"https://x.com/i/web/status/{tweet_id}"


def entity_links(entities: Mapping[str, Any] | None) -> list[str]:
    """Expanded URLs of `entities.urls` (the unwound URL when X resolved one), in order, unique."""
    if not entities:
        return []
    links: list[str] = []
    for u in entities.get("urls") or ():
        link = u.get("unwound_url") or u.get("expanded_url") or u.get("url")
        if link and link not in links:
            links.append(link)
    return links


def _tags(entities: Mapping[str, Any] | None, kind: str, key: str) -> list[str]:
    if not entities:
        return []
    out: list[str] = []
    for item in entities.get(kind) or ():
        value = item.get(key)
        if value and value not in out:
            out.append(value)
    return out


def normalise_user(user: Mapping[str, Any]) -> AuthorRecord:
    """An X v2 user object as an AuthorRecord."""
    metrics = user.get("public_metrics") or {}
    username = user.get("username")
    verified = user.get("verified")
    return AuthorRecord(
        platform=PLATFORM,
        external_id=_tweet_id(user),
        handle=username,
        display_name=user.get("name"),
        bio=user.get("description"),
        followers=_int(metrics.get("followers_count")),
        following=_int(metrics.get("following_count")),
        verified=None if verified is None else bool(verified),
        url=f"https://x.com/{username}" if username else None,
        raw=dict(user),
    )


def normalise_tweet(
    tweet: Mapping[str, Any],
    *,
    users: Mapping[str, Mapping[str, Any]],
    referenced: Mapping[str, Mapping[str, Any]],
    provenance: JSON,
    read_at: dt.datetime,
) -> PostRecord:
    """An X v2 tweet object as a PostRecord; `users`/`referenced` are the page's includes by id.

    Raises MissingField (a ValueError) when the tweet cannot be stored.
    """
    tweet_id = _tweet_id(tweet)
    note = tweet.get("note_tweet")  # posts longer than 280 characters
    text = (note or {}).get("text") or tweet.get("text")
    if text is None:
        raise MissingField(f"tweet {tweet_id} has no 'text'")
    created = tweet.get("created_at")
    created_at = parse_time(created) if created else snowflake_time(tweet_id)
    entities = (note or {}).get("entities") or tweet.get("entities")
    author_id = tweet.get("author_id")
    author = users.get(author_id) if author_id else None
    in_reply_to = quoted = reposted = None
    links = entity_links(entities)
    for ref in tweet.get("referenced_tweets") or ():
        kind, ref_id = ref.get("type"), ref.get("id")
        if kind == "replied_to":
            in_reply_to = ref_id
        elif kind == "quoted":
            quoted = ref_id
        elif kind == "retweeted":
            reposted = ref_id
            # a repost's own text and links are truncated: take the original's links too
            original = referenced.get(ref_id)
            if original:
                for link in entity_links((original.get("note_tweet") or original).get("entities")):
                    if link not in links:
                        links.append(link)
    metrics = tweet.get("public_metrics") or {}
    lang = tweet.get("lang")
    return PostRecord(
        platform=PLATFORM,
        external_id=tweet_id,
        text=text,
        created_at=created_at,
        author_external_id=str(author_id) if author_id else None,
        url=status_url(tweet_id, author.get("username") if author else None),
        language=None if lang in (None, "und", "zxx", "qme", "qht") else lang,
        reply_count=_int(metrics.get("reply_count")),
        like_count=_int(metrics.get("like_count")),
        repost_count=_int(metrics.get("retweet_count")),
        quote_count=_int(metrics.get("quote_count")),
        view_count=_int(metrics.get("impression_count")),
        metrics_read_at=read_at if metrics else None,
        has_media=bool((tweet.get("attachments") or {}).get("media_keys")),
        in_reply_to_id=in_reply_to,
        quoted_id=quoted,
        reposted_id=reposted,
        conversation_id=tweet.get("conversation_id"),
        links=links,
        hashtags=_tags(entities, "hashtags", "tag"),
        mentions=_tags(entities, "mentions", "username"),
        raw=tweet,  # type: ignore[arg-type]
        provenance=provenance,
    )


def quarantine(item: Any, exc: Exception) -> Quarantined:
    """An item that failed normalisation, with its raw payload and the reason."""
    external_id = item.get("id") if isinstance(item, Mapping) else None
    return Quarantined(raw=item, error=f"{type(exc).__name__}: {exc}",
                       external_id=None if external_id is None else str(external_id))


def _user_record(user: Mapping[str, Any], known: dict[bytes, AuthorRecord] | None) -> AuthorRecord:
    """`normalise_user(user)`, read once per run per distinct user object when `known` is the run's memo."""
    if known is None:
        return normalise_user(user)
    try:
        key = orjson.dumps(user)
    except TypeError:  # not as JSON sends it (orjson refuses ints over 64 bits): read it as it is
        return normalise_user(user)
    return known_author(known, key, lambda _: normalise_user(user))


def normalise_page(
    page: Mapping[str, Any], *, provenance: JSON, read_at: dt.datetime,
    known_authors: dict[bytes, AuthorRecord] | None = None,
) -> tuple[list[PostRecord], list[AuthorRecord], list[Quarantined]]:
    """One v2 response body ({"data", "includes", ...}): posts, authors and quarantined items.

    `known_authors` is the collection run's memo of user objects already read, by their JSON
    (`radpulse.collectors.payloads.known_author`): the accounts that post most under a tag come
    back on every page with the same profile, and are read once per run."""
    includes = page.get("includes") or {}
    user_list = includes.get("users") or ()
    users = {u["id"]: u for u in user_list if isinstance(u, dict) and "id" in u}
    referenced = {t["id"]: t for t in includes.get("tweets") or () if isinstance(t, dict) and "id" in t}
    posts: list[PostRecord] = []
    bad: list[Quarantined] = []
    data = page.get("data") or []
    if isinstance(data, dict):  # single-tweet lookups
        data = [data]
    for tweet in data:
        try:
            posts.append(normalise_tweet(tweet, users=users, referenced=referenced,
                                         provenance=provenance, read_at=read_at))
        except (MissingField, KeyError, TypeError, ValueError, AttributeError) as exc:
            bad.append(quarantine(tweet, exc))
    authors: list[AuthorRecord] = []
    for user in user_list:
        try:
            authors.append(_user_record(user, known_authors))
        except (MissingField, KeyError, TypeError, ValueError, AttributeError) as exc:
            bad.append(quarantine(user, exc))
    return posts, authors, bad


# --- v1.1-style tweets (X account archive, twarc1) ---------------------------------------


def _v1_links(entities: Mapping[str, Any] | None) -> list[str]:
    if not entities:
        return []
    links: list[str] = []
    for u in entities.get("urls") or ():
        link = u.get("unwound", {}).get("url") if isinstance(u.get("unwound"), dict) else None
        link = link or u.get("expanded_url") or u.get("url")
        if link and link not in links:
            links.append(link)
    return links


def normalise_v1_tweet(
    tweet: Mapping[str, Any],
    *,
    provenance: JSON,
    read_at: dt.datetime | None,
    author_id: str | None = None,
    username: str | None = None,
) -> PostRecord:
    """A v1.1-style tweet (as in an X account data export) as a PostRecord.

    The account export does not say who wrote the tweets (it is the account's own archive):
    pass `author_id`/`username` from the export's account.js when known.
    """
    tweet_id = _tweet_id(tweet, "id_str") if tweet.get("id_str") else _tweet_id(tweet)
    text = tweet.get("full_text") or tweet.get("text")
    if text is None:
        raise MissingField(f"tweet {tweet_id} has no 'full_text'")
    created = tweet.get("created_at")
    created_at = parse_time(created) if created else snowflake_time(tweet_id)
    user = tweet.get("user") or {}
    author_id = author_id or user.get("id_str") or (str(user["id"]) if user.get("id") else None)
    username = username or user.get("screen_name")
    entities = tweet.get("entities") or {}
    extended = tweet.get("extended_entities") or {}
    retweeted = tweet.get("retweeted_status") or {}
    reposted = retweeted.get("id_str") if retweeted else None
    lang = tweet.get("lang")
    has_metrics = "favorite_count" in tweet or "retweet_count" in tweet
    return PostRecord(
        platform=PLATFORM,
        external_id=tweet_id,
        text=text,
        created_at=created_at,
        author_external_id=author_id,
        url=status_url(tweet_id, username),
        language=None if lang in (None, "und", "zxx", "qme", "qht") else lang,
        reply_count=_int(tweet.get("reply_count")),
        like_count=_int(tweet.get("favorite_count")),
        repost_count=_int(tweet.get("retweet_count")),
        quote_count=_int(tweet.get("quote_count")),
        metrics_read_at=read_at if has_metrics else None,
        has_media=bool(extended.get("media") or entities.get("media")),
        in_reply_to_id=tweet.get("in_reply_to_status_id_str") or None,
        quoted_id=tweet.get("quoted_status_id_str") or None,
        reposted_id=reposted,
        conversation_id=None,
        links=_v1_links(entities),
        hashtags=[h["text"] for h in entities.get("hashtags") or () if h.get("text")],
        mentions=[m["screen_name"] for m in entities.get("user_mentions") or () if m.get("screen_name")],
        raw=dict(tweet),
        provenance=provenance,
    )


def newest_id(ids: Iterable[str], current: str | None = None) -> str | None:
    """The numerically largest X id among `ids` and `current`."""
    best = int(current) if current else -1
    for i in ids:
        value = int(i)
        if value > best:
            best = value
    return None if best < 0 else str(best)
