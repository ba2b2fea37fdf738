"""De-identification of posts for research exports.

What a de-identified export leaves out or replaces:

- platform ids and URLs of posts (`external_id`, `url`, reply/quote/repost ids): replaced by
  keyed pseudonyms (``p_...``), so threads can still be followed inside the dataset;
- authors: keyed pseudonyms (``a_...``) of ``platform:id``; handles, display names and bios are
  never exported;
- in `text` and `title`: @mentions (``@name``, ``@name@instance``, ``@name.bsky.social``),
  Reddit ``u/name`` and ``/u/name``, the handles of the post's author and of the accounts it
  mentions (also without the @), and links to posts or profiles on the platforms;
- `links`: links to posts or profiles on the platforms are dropped (links to papers, news and
  other sites are kept);
- Reddit communities that are user profiles (``u_name``);
- raw payloads; held posts (privacy flags not cleared by a reviewer) are not exported at all.

The pseudonym key comes from ``RADPULSE_EXPORT_KEY`` when set (share it across databases of one
project for pseudonyms that are stable between them), else from a random key stored once in
the database. What this does **not** guarantee: the exported text can still be searched on the
platform to find the original post and its author, and people can be recognised from what they
write about themselves.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

#: hosts whose links point at posts or people on a social platform
PLATFORM_HOSTS = frozenset({
    "x.com", "twitter.com", "mobile.twitter.com", "t.co", "reddit.com", "old.reddit.com", "new.reddit.com",
    "np.reddit.com", "redd.it", "bsky.app", "staging.bsky.app", "instagram.com", "facebook.com", "fb.com",
    "threads.net", "tiktok.com", "mastodon.social",
})
#: path shapes of profiles and statuses on any host (Mastodon and other fediverse servers)
_FEDIVERSE_PATH = re.compile(r"^/(?:@[\w.\-]+|users/[\w.\-]+|u/[\w.\-]+|user/[\w.\-]+|profile/[\w.\-:]+|in/[\w.\-]+)(?:/|$)",
                             re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>\"')\]]+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@/])@[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?(?:@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)?")
_REDDIT_USER = re.compile(r"(?<![\w/])/?u/[A-Za-z0-9_\-]{2,}", re.IGNORECASE)
MENTION_MARK = "@user"
REDDIT_MARK = "u/user"
LINK_MARK = "[link]"


def is_platform_link(url: str) -> bool:
    """True for a link to a post or a profile on a social platform."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return True  # unparseable: do not keep it
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    if host in PLATFORM_HOSTS or host.endswith((".bsky.social", ".reddit.com", ".twitter.com")):
        return True
    return bool(_FEDIVERSE_PATH.match(parts.path or ""))


class Pseudonymiser:
    """Keyed, stable pseudonyms: HMAC-SHA256 of ``kind:platform:id`` under the project's key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, prefix: str, platform: str, external_id: str | None) -> str | None:
        if external_id is None or external_id == "":
            return None
        digest = hmac.new(self._key, f"{prefix}:{platform}:{external_id}".encode(), hashlib.sha256).hexdigest()
        return f"{prefix}_{digest[:16]}"


def _handle_names(handles: Iterable[str], text: str) -> list[str]:
    """The handles (without @ and instance) that may occur in `text`, longest first."""
    names = {h.strip().lstrip("@").split("@")[0] for h in handles if h and len(h.strip().lstrip("@")) >= 2}
    if names and text.isascii() and all(n.isascii() for n in names):
        # only names that occur in the text can match (ASCII: IGNORECASE is plain lower-casing);
        # most posts name none, and compiling a pattern per post was most of an export's time
        low = text.lower()
        names = {n for n in names if n.lower() in low}
    return sorted(names, key=lambda n: (-len(n), n))


@functools.lru_cache(maxsize=8192)
def _handle_pattern(name: str) -> re.Pattern[str]:
    """One handle, also with @, as a whole word (cached: accounts recur from post to post)."""
    return re.compile(r"(?<![\w@])@?" + re.escape(name) + r"(?![\w])", re.IGNORECASE)


def scrub_text(text: str | None, handles: Iterable[str] = ()) -> str | None:
    """`text` without platform links, @mentions, Reddit user names and the given handles."""
    if not text:
        return text
    out = _URL.sub(lambda m: LINK_MARK if is_platform_link(m.group(0)) else m.group(0), text)
    out = _MENTION.sub(MENTION_MARK, out)
    out = _REDDIT_USER.sub(REDDIT_MARK, out)
    for name in _handle_names(handles, out):  # longest first, as one alternation would prefer
        out = _handle_pattern(name).sub(MENTION_MARK, out)
    return out


def scrub_links(links: Iterable[str] | None) -> list[str]:
    """The links that do not point at posts or profiles on a platform."""
    return [u for u in (links or []) if isinstance(u, str) and not is_platform_link(u)]


def scrub_community(community: str | None) -> str | None:
    """Reddit user-profile communities (``u_name``) become ``u_user``; subreddits are kept."""
    if community and community.lower().startswith("u_"):
        return "u_user"
    return community
