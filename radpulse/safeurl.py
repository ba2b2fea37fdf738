"""Which URLs from the internet may become links: http and https only.

A post, feed or profile can name any URL: `javascript:`, `data:`, `vbscript:`, `file:` and the
like run code or read local files when clicked. radpulse stores as a link (`posts.url`,
`posts.links`, `articles.url`, `authors.url`) only what `safe_http_url` accepts, and every
renderer (dashboard, digest HTML and text, exports) passes a URL through it again before showing
it as a link, so a row stored before this rule, or written by another tool, is still inert.
Anything refused stays in the raw payload and in the post's text, as text.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["SAFE_SCHEMES", "checked_http_url", "is_plain_http_url", "safe_http_url", "safe_http_urls"]

SAFE_SCHEMES = frozenset(("http", "https"))
#: whitespace, C0/C1 controls, DEL, and characters browsers drop inside URLs (so "java\tscript:"
#: cannot pass as one scheme here and another there)
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff\ud800-\udfff]")
#: longest URL kept as a link (browsers and mail clients truncate far earlier)
MAX_URL_LENGTH = 4096
#: the common case, accepted without parsing: http(s)://, a host of letters, digits, dots and
#: hyphens, an optional port, then a path, query or fragment free of everything `_UNSAFE` refuses
#: (and of U+FFFE/U+FFFF, which `radpulse.safetext.plain_text` removes, so such a URL is also
#: plain text as it stands). Whatever it does not match takes the full check of `checked_http_url`,
#: which accepts everything this accepts (tests/core/test_safe_fast_paths.py).
_PLAIN_HTTP = re.compile(
    r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.\-]+(?::[0-9]*)?"
    r"(?:[/?#][^\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff\ud800-\udfff\ufffe\uffff]*)?"
)


def safe_http_url(value: object) -> str | None:
    """`value` when it is an absolute http(s) URL with a host, else None (never a link)."""
    if type(value) is str and is_plain_http_url(value):
        return value  # the common case
    return checked_http_url(value)


def is_plain_http_url(value: str) -> bool:
    """Whether `value` is an http(s) URL of the common shape `safe_http_url` accepts unparsed
    (see `_PLAIN_HTTP`): such a URL is also plain text (radpulse.safetext.plain_text keeps it)."""
    return len(value) <= MAX_URL_LENGTH and _PLAIN_HTTP.fullmatch(value) is not None


def checked_http_url(value: object) -> str | None:
    """`safe_http_url` without its fast path: the full check, parsing the URL."""
    if not isinstance(value, str):
        return None
    url = value.strip(" \t\n\r\f\v")
    if not url or len(url) > MAX_URL_LENGTH or _UNSAFE.search(url):
        return None
    scheme, sep, _ = url.partition(":")
    if not sep or scheme.lower() not in SAFE_SCHEMES:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. "http://[::1" (an unclosed IPv6 literal)
        return None
    if not parts.netloc.strip() or not host:
        return None
    return url


def safe_http_urls(values: object) -> list[str]:
    """The http(s) URLs of `values` (a list), in order, the others dropped."""
    if not isinstance(values, (list, tuple)):
        return []
    return [u for u in (safe_http_url(v) for v in values) if u is not None]
