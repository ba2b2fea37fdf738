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
import re
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import urlsplit

from radpulse.safeurl import safe_http_url

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
    """Keyed, stable pseudonyms: HMAC-SHA256 of ``kind:platform:id`` under the project's key.

    HMAC (RFC 2104) is computed from two SHA-256 states keyed once, copied per value: the same
    digests as `hmac.new(key, message, "sha256")`, at a third of its cost per call."""

    #: repeated values remembered at most (about 200 bytes each)
    MEMO_SIZE = 500_000

    def __init__(self, key: bytes) -> None:
        self._key = key
        block = hashlib.sha256().block_size
        padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\0")
        self._inner = hashlib.sha256(padded.translate(_IPAD))
        self._outer = hashlib.sha256(padded.translate(_OPAD))
        #: pseudonyms of repeated values (authors) already made, kept across calls (an export's
        #: chunks name the same accounts again), emptied when it reaches `MEMO_SIZE`
        self._memo: dict[tuple[str, str, str | None], str | None] = {}

    def _hex(self, message: bytes) -> str:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def __call__(self, prefix: str, platform: str, external_id: str | None) -> str | None:
        if external_id is None or external_id == "":
            return None
        return f"{prefix}_{self._hex(f'{prefix}:{platform}:{external_id}'.encode())[:16]}"

    def many(self, prefix: str, platforms: Sequence[str], ids: Sequence[str | None], *,
             repeated: bool = False) -> list[str | None]:
        """`self(prefix, platform, id)` for each pair; with `repeated` (authors), each distinct
        pair is hashed once (and remembered for the next calls)."""
        if not repeated:
            digest = self._hex
            return [None if ident is None or ident == "" else f"{prefix}_{digest(f'{prefix}:{platform}:{ident}'.encode())[:16]}"
                    for platform, ident in zip(platforms, ids)]
        if len(self._memo) > self.MEMO_SIZE:
            self._memo.clear()
        seen = self._memo
        out: list[str | None] = []
        append = out.append
        for platform, ident in zip(platforms, ids):
            key = (prefix, platform, ident)
            value = seen.get(key, _MISSING)
            if value is _MISSING:
                value = seen[key] = self(prefix, platform, ident)
            append(value)  # type: ignore[arg-type]
        return out


_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))
_MISSING = object()


def _handle_name(handle: str) -> str | None:
    """A handle as it may stand in text: without @ and instance; None when under 2 characters."""
    bare = handle.strip().lstrip("@")
    return bare.split("@")[0] if len(bare) >= 2 else None


def _handle_names(handles: Iterable[str], text: str) -> list[str]:
    """The handles (without @ and instance) that may occur in `text`, longest first."""
    names = {n for h in handles if h and (n := _handle_name(h)) is not None}
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


def _link_mark(match: re.Match[str]) -> str:
    return LINK_MARK if _is_platform_link_cached(match.group(0)) else match.group(0)


@functools.lru_cache(maxsize=65536)
def _is_platform_link_cached(url: str) -> bool:
    return is_platform_link(url)


def _scrub_handles(text: str, handles: Iterable[str]) -> str:
    for name in _handle_names(handles, text):  # longest first, as one alternation would prefer
        text = _handle_pattern(name).sub(MENTION_MARK, text)
    return text


def _replace_name(text: str, name: str) -> str:
    """`_handle_pattern(name).sub(MENTION_MARK, text)` for an ASCII text and name, without
    compiling a pattern (most of a column's time went to compiling one per account): the same
    occurrences, matched case-insensitively, with the same word boundaries (ASCII: \\w is
    alphanumeric or "_"), replaced left to right without overlapping."""
    low, key = text.lower(), name.lower()
    pieces: list[str] = []
    last, i = 0, low.find(key)
    while i != -1:
        start = i - 1 if i and text[i - 1] == "@" else i
        before = text[start - 1] if start else ""
        end = i + len(key)
        after = text[end] if end < len(text) else ""
        word_before = before != "" and (before.isalnum() or before in "_@")
        word_after = after != "" and (after.isalnum() or after == "_")
        if word_before or word_after:
            i = low.find(key, i + 1)
            continue
        pieces += (text[last:start], MENTION_MARK)
        last, i = end, low.find(key, end)
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def _scrub_handles_fast(text: str, handles: Iterable[str]) -> str:
    """`_scrub_handles`, with `_replace_name` for ASCII names wherever the text's lower case lines
    up with it character for character (`_aligned`)."""
    aligned = _aligned(text)
    for name in _handle_names(handles, text):
        text = _replace_name(text, name) if aligned and name.isascii() else _handle_pattern(name).sub(MENTION_MARK, text)
    return text


def _aligned(text: str) -> bool:
    """True when `_replace_name` finds an ASCII name in `text` exactly where `re.IGNORECASE` does:
    an ASCII text, or one whose lower case has its length (no "İ") and holds none of the two
    characters IGNORECASE matches with an ASCII letter that lower-casing leaves alone ("ı", "ſ";
    the Kelvin sign lower-cases to "k"). Word boundaries are the same either way (`str.isalnum`
    is what `\\w` means)."""
    return text.isascii() or ("\u0131" not in text and "\u017f" not in text and len(text.lower()) == len(text))


def scrub_text(text: str | None, handles: Iterable[str] = ()) -> str | None:
    """`text` without platform links, @mentions, Reddit user names and the given handles."""
    if not text:
        return text
    out = _URL.sub(_link_mark, text)
    out = _MENTION.sub(MENTION_MARK, out)
    out = _REDDIT_USER.sub(REDDIT_MARK, out)
    return _scrub_handles(out, handles)


# -- whole columns at once ----------------------------------------------------------------------
#
# `scrub_texts` gives exactly `[scrub_text(t, h) for t, h in zip(texts, handles)]` (the tests hold
# it to that), with far fewer Python steps per post: each pattern runs once over the texts that
# can match it (those holding "://", "@", "u/"), joined by a separator no pattern can cross, and
# the handle patterns run only on the posts whose text contains one of their handles.

#: joins texts for one pass of a pattern: every pattern stops at a line break and none matches
#: inside it, so each text is matched as if on its own (texts holding a NUL are done one by one)
_SEP = "\n\x00\n"
#: re.IGNORECASE matches an ASCII letter with its two cases and only four more characters (İ ı ſ
#: K); after str.lower() these stand as "i" + U+0307, "ı", "ſ" and "k". A handle of ASCII
#: characters can occur in a text only if its lower case occurs in the text lower-cased and then
#: translated by this (tests/core/test_deidentify_columns.py checks the four against `re`).
_FOLD = str.maketrans({"\u0131": "i", "\u017f": "s", "\u0307": None})
_FOLDED = re.compile("[\u0131\u017f\u0307]")


def _sub_where(texts: list, idx: list[int], pattern: re.Pattern[str],
               repl: str | Callable[[re.Match[str]], str]) -> None:
    """Apply `pattern.sub(repl, ...)` to the texts at `idx`, in place."""
    if not idx:
        return
    picked = [texts[i] for i in idx]
    joined = _SEP.join(picked)
    if joined.count("\x00") == len(picked) - 1:
        pieces = pattern.sub(repl, joined).split(_SEP)
    else:  # some text holds a NUL itself: one at a time
        pieces = [pattern.sub(repl, t) for t in picked]
    for i, piece in zip(idx, pieces):
        texts[i] = piece


def _folded_lower(texts: list[str | None]) -> list[str]:
    """Each text lower-cased, and translated by `_FOLD` where that changes it."""
    lows = [t.lower() if t else "" for t in texts]
    for i in [i for i, low in enumerate(lows) if not low.isascii() and _FOLDED.search(low)]:
        lows[i] = lows[i].translate(_FOLD)
    return lows


@functools.lru_cache(maxsize=1 << 16)
def _name_of(handle: str) -> str | None:
    """A handle's name lower-cased, as `scrub_texts` looks for it in a `_folded_lower` text: ""
    when it has none (under two characters), None when it is not ASCII (only its pattern can tell)."""
    name = _handle_name(handle) if handle else None
    if name is None:
        return ""
    return name.lower() if name.isascii() else None


def scrub_texts(texts: Sequence[str | None], handles: Sequence[Sequence[str]]) -> list[str | None]:
    """`scrub_text` of each text with the handles of its row, for whole columns."""
    out = list(texts)
    # the texts each pattern can match (no call per text: a comprehension with `in`)
    _sub_where(out, [i for i, t in enumerate(out) if t and "://" in t], _URL, _link_mark)
    _sub_where(out, [i for i, t in enumerate(out) if t and "@" in t], _MENTION, MENTION_MARK)
    _sub_where(out, [i for i, t in enumerate(out) if t and ("u/" in t or "U/" in t)], _REDDIT_USER, REDDIT_MARK)
    # a row's handle patterns run only when one of its names can occur in its text: its name
    # (lower case) in the text's `_folded_lower`, or a name that is not ASCII (only its pattern
    # can tell); each handle's name worked out once (cached), each text lower-cased only when needed
    rows = []
    for i, row in enumerate(handles):
        if not row or not (text := out[i]):
            continue
        low = None
        for handle in row:
            if not isinstance(handle, str):
                continue
            name = _name_of(handle)
            if name is None:
                rows.append(i)
                break
            if name:
                if low is None:
                    low = text.lower()
                    if not low.isascii() and _FOLDED.search(low):
                        low = low.translate(_FOLD)
                if name in low:
                    rows.append(i)
                    break
    for i in rows:
        out[i] = _scrub_handles_fast(out[i], [h for h in handles[i] if isinstance(h, str)])  # type: ignore[arg-type]
    return out


def scrub_links(links: Iterable[str] | None) -> list[str]:
    """The links that do not point at posts or profiles on a platform."""
    return [u for u in (links or []) if isinstance(u, str) and not is_platform_link(u)]


def link_lists(lists: Sequence[object], *, deidentify: bool) -> list[list[str]]:
    """Each row's links as exported: `safe_http_urls`, and for a de-identified export without
    the platform links (`scrub_links`); each distinct URL judged once."""
    verdict: dict[object, str | None] = {}
    out: list[list[str]] = []
    for links in lists:
        row: list[str] = []
        if isinstance(links, list | tuple):
            for value in links:
                kept = verdict.get(value, _MISSING) if isinstance(value, str) else None
                if kept is _MISSING:
                    kept = safe_http_url(value)
                    if kept is not None and deidentify and _is_platform_link_cached(kept):
                        kept = None
                    verdict[value] = kept
                if kept is not None:
                    row.append(kept)  # type: ignore[arg-type]
        out.append(row)
    return out


def scrub_community(community: str | None) -> str | None:
    """Reddit user-profile communities (``u_name``) become ``u_user``; subreddits are kept."""
    if community and community.lower().startswith("u_"):
        return "u_user"
    return community
