"""Pure functions turning Reddit's JSON `data` dicts (submissions t3, comments t1) into records.

They work on the dicts Reddit sends (`raw_json=1`), never on praw model objects: that is the
hot path of collection and of the benchmark, and praw's models are slow to build. Every
function here is deterministic given its inputs.

Field choices (documented once, here):
- `external_id` is the fullname (`t3_...`, `t1_...`), which is what `/api/info` takes back.
- `text` is the submission's `selftext` (the title stays in `title`); for comments the `body`.
- `like_count` is `ups`: Reddit reports no separate likes and stopped reporting real downvotes
  (`downs` is always 0), so upvotes are the closest analogue of other platforms' likes. The net
  `score` is kept as well. `repost_count` is `num_crossposts` when Reddit sends it, and a
  crosspost's `reposted_id` is the fullname of the submission it crossposts.
- An account deleted on Reddit (`author == "[deleted]"`), a post removed by moderators or
  Reddit (`removed_by_category`, `"[removed]"`), or deleted by its author (`"[deleted]"`) is
  `is_deleted`: storage then purges its text and raw payload.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any

from radpulse.records import AuthorRecord, PostRecord, Quarantined

JSON = dict[str, Any]

PLATFORM = "reddit"
SITE = "https://www.reddit.com"
DELETED_MARKERS = frozenset({"[deleted]", "[removed]"})
MEDIA_HINTS = frozenset({"image", "hosted:video", "rich:video", "gallery"})
MEDIA_DOMAINS = frozenset({"i.redd.it", "v.redd.it", "i.imgur.com", "preview.redd.it"})
MEDIA_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".gifv", ".webp", ".mp4", ".webm")

#: http(s) URLs in markdown: bare, <angle-bracketed> or [text](url); stops at whitespace and
#: characters that cannot end a URL in markdown
_URL = re.compile(r"https?://[^\s<>\[\]\"'`|\\^{}]+", re.IGNORECASE)
_TRAILING = ".,;:!?*_~'\""
_MENTION = re.compile(r"(?<![\w/])/?u/([A-Za-z0-9_-]{3,20})\b")
_UTC = dt.UTC


class MissingField(ValueError):
    """A Reddit item lacks a field radpulse cannot do without."""


def created_at(value: Any) -> dt.datetime:
    """Reddit's `created_utc` (epoch seconds) as an aware UTC datetime."""
    return dt.datetime.fromtimestamp(float(value), tz=_UTC)


def extract_links(markdown: str | None) -> list[str]:
    """Outbound http(s) links in Reddit markdown, in order, without duplicates."""
    if not markdown or "http" not in markdown:
        return []
    out: list[str] = []
    for match in _URL.finditer(markdown):
        url = match.group(0)
        # a markdown link's URL ends at its unbalanced closing parenthesis
        while url.endswith(")") and url.count("(") < url.count(")"):
            url = url[:-1]
        url = url.rstrip(_TRAILING)
        if url.count("(") < url.count(")"):
            url = url[: url.index(")")]
        if len(url) > 8 and url not in out:
            out.append(url)
    return out


def extract_mentions(markdown: str | None) -> list[str]:
    """Usernames mentioned as u/name or /u/name."""
    if not markdown or "u/" not in markdown:
        return []
    return list(dict.fromkeys(_MENTION.findall(markdown)))


def _author(data: JSON) -> tuple[str | None, AuthorRecord | None]:
    name = data.get("author")
    if not name or name == "[deleted]":
        return None, None
    external_id = data.get("author_fullname") or name
    record = AuthorRecord(
        platform=PLATFORM,
        external_id=external_id,
        handle=name,
        url=f"{SITE}/user/{name}",
        raw={"name": name, "fullname": data.get("author_fullname")},
    )
    return external_id, record


def _int(value: Any) -> int | None:
    return value if type(value) is int else (int(value) if isinstance(value, float) else None)


def _required(data: JSON, names: tuple[str, ...]) -> None:
    for name in names:
        if not data.get(name) and data.get(name) != 0:
            missing = [n for n in names if not data.get(n) and data.get(n) != 0]
            raise MissingField(f"missing required field(s): {', '.join(missing)}")


SUBMISSION_FIELDS = ("name", "created_utc", "subreddit", "permalink")
COMMENT_FIELDS = ("name", "created_utc", "subreddit", "link_id", "parent_id")


def submission_is_deleted(data: JSON) -> bool:
    """True when the submission was deleted by its author, removed, or its account deleted."""
    return bool(
        data.get("removed_by_category")
        or data.get("selftext") in DELETED_MARKERS
        or data.get("author") == "[deleted]"
    )


def comment_is_deleted(data: JSON) -> bool:
    """True when the comment was deleted, removed, or its account deleted."""
    return bool(
        data.get("removed_by_category")
        or data.get("body") in DELETED_MARKERS
        or data.get("author") == "[deleted]"
    )


def has_media(data: JSON) -> bool:
    """Video, image, gallery or embedded media in a submission."""
    return bool(
        data.get("is_video")
        or data.get("post_hint") in MEDIA_HINTS
        or data.get("media")
        or data.get("is_gallery")
        or data.get("media_metadata")
        or data.get("domain") in MEDIA_DOMAINS
        or (not data.get("is_self") and (data.get("url") or "").lower().endswith(MEDIA_SUFFIXES))
    )


def normalise_submission(
    data: JSON, *, read_at: dt.datetime, provenance: JSON | None
) -> tuple[PostRecord, AuthorRecord | None]:
    """A submission's `data` dict as a PostRecord (and its author); MissingField when unusable."""
    _required(data, SUBMISSION_FIELDS)
    author_id, author = _author(data)
    deleted = submission_is_deleted(data)
    selftext = data.get("selftext") or None
    links: list[str] = []
    url = data.get("url")
    if url and not data.get("is_self") and url.startswith(("http://", "https://")):
        links.append(url)
    if selftext and not deleted:
        links += [u for u in extract_links(selftext) if u not in links]
    post = PostRecord(
        platform=PLATFORM,
        external_id=data["name"],
        text=None if deleted else selftext,
        created_at=created_at(data["created_utc"]),
        author_external_id=author_id,
        url=SITE + data["permalink"],
        title=None if deleted else data.get("title"),
        community=data["subreddit"],
        reply_count=_int(data.get("num_comments")),
        like_count=_int(data.get("ups")),
        repost_count=_int(data.get("num_crossposts")),
        reposted_id=data.get("crosspost_parent") or None,
        score=_int(data.get("score")),
        metrics_read_at=read_at,
        has_media=has_media(data),
        links=links,
        mentions=[] if deleted else extract_mentions(selftext),
        is_deleted=deleted,
        raw=data,
        provenance=provenance,
    )
    return post, author


def normalise_comment(
    data: JSON, *, read_at: dt.datetime, provenance: JSON | None
) -> tuple[PostRecord, AuthorRecord | None]:
    """A comment's `data` dict as a PostRecord replying to `parent_id` in thread `link_id`."""
    _required(data, COMMENT_FIELDS)
    author_id, author = _author(data)
    deleted = comment_is_deleted(data)
    body = data.get("body") or None
    permalink = data.get("permalink")
    post = PostRecord(
        platform=PLATFORM,
        external_id=data["name"],
        text=None if deleted else body,
        created_at=created_at(data["created_utc"]),
        author_external_id=author_id,
        url=SITE + permalink
        if permalink
        else f"{SITE}/comments/{data['link_id'][3:]}/_/{data['name'][3:]}/",
        community=data["subreddit"],
        like_count=_int(data.get("ups")),
        score=_int(data.get("score")),
        metrics_read_at=read_at,
        in_reply_to_id=data["parent_id"],
        conversation_id=data["link_id"],
        links=[] if deleted else extract_links(body),
        mentions=[] if deleted else extract_mentions(body),
        is_deleted=deleted,
        raw=data,
        provenance=provenance,
    )
    return post, author


NORMALISERS = {"t3": normalise_submission, "t1": normalise_comment}


def normalise_things(
    things: Iterable[Any],
    *,
    read_at: dt.datetime,
    provenance: JSON | None,
    kinds: Sequence[str] = ("t3", "t1"),
) -> tuple[list[PostRecord], list[AuthorRecord], list[Quarantined]]:
    """Normalise listing children (`{"kind": ..., "data": {...}}`); bad ones are quarantined."""
    posts: list[PostRecord] = []
    authors: dict[str, AuthorRecord] = {}
    bad: list[Quarantined] = []
    for thing in things:
        try:
            kind = thing["kind"]
            data = thing["data"]
            if kind not in kinds:
                raise MissingField(f"unexpected kind {kind!r} (expected {', '.join(kinds)})")
            post, author = NORMALISERS[kind](data, read_at=read_at, provenance=provenance)
        except (MissingField, KeyError, TypeError, ValueError, OverflowError) as exc:
            data = thing.get("data") if isinstance(thing, dict) else None
            name = data.get("name") if isinstance(data, dict) else None
            error = str(exc) if isinstance(exc, MissingField) else f"{type(exc).__name__}: {exc}"
            bad.append(Quarantined(raw=thing, error=error, external_id=name))
            continue
        posts.append(post)
        if author is not None:
            authors[author.external_id] = author
    return posts, list(authors.values()), bad


def keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str] | None:
    """A case-insensitive whole-word pattern matching any of `keywords` (None: keep all)."""
    words = [k.strip() for k in keywords if k and k.strip()]
    if not words:
        return None
    alternatives = sorted(
        (r"\s+".join(map(re.escape, w.split())) for w in words), key=len, reverse=True
    )
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def matches_keywords(data: JSON, pattern: re.Pattern[str] | None) -> bool:
    """True when the submission's title or selftext contains a keyword (or there is no filter)."""
    if pattern is None:
        return True
    return bool(
        pattern.search(data.get("title") or "") or pattern.search(data.get("selftext") or "")
    )
