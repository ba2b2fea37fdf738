"""What journal feeds declare: the [[feeds]] list, how a feed is named, limits.

A feed's identity is its URL. Its name (`feed:<name>`) is given with `--name`, else read from
the feed's own channel title, else built from the URL: the host, then the query parameters that
tell it apart from another feed on the same host (`pubs.rsna.org?jc=rycan`), since most journals
share a publisher's host.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from pydantic import AfterValidator, Field, field_validator

from radpulse.collectors import toml_edit
from radpulse.collectors.registry import AddRequest, Platform, RateLimit, register_platform
from radpulse.config import MAX_SOURCE_NAME, Section
from radpulse.errors import InputError
from radpulse.records import SourceSpec

#: bytes read when looking for a feed's title at `sources add`
TITLE_BYTES = 256 * 1024
TITLE_TIMEOUT = 10.0


def check_feed_url(url: str) -> str:
    """`url` when it is an http(s) address with a host; ValueError saying why otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not a feed URL: radpulse reads feeds over http:// or https:// "
                         "only (not file:// or other schemes)")
    return url.strip()


class FeedSettings(Section):
    name: str = Field(min_length=1, max_length=MAX_SOURCE_NAME)
    url: str
    journal: str | None = None

    @field_validator("url")
    @classmethod
    def _web_url(cls, url: str) -> str:
        return check_feed_url(url)


def _unique_names(feeds: list[FeedSettings]) -> list[FeedSettings]:
    names = [f.name for f in feeds]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"feed names must be unique; repeated: {', '.join(dupes)}")
    return feeds


def read_feed_title(url: str, *, timeout: float = TITLE_TIMEOUT) -> str | None:
    """The channel title of the feed at `url` (None when it cannot be read, quickly)."""
    import feedparser

    try:
        with httpx.Client(timeout=timeout, follow_redirects=True,
                          headers={"User-Agent": "radpulse (feed title lookup)"}) as client:
            with client.stream("GET", url) as response:
                if response.status_code != 200:
                    return None
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) >= TITLE_BYTES:
                        break
    except httpx.HTTPError:
        return None
    title = " ".join(str(feedparser.parse(body).feed.get("title") or "").split())
    return title[:120] or None


def name_from_url(url: str, taken: dict[str, str]) -> str:
    """host, or host?<the query parameters that differ from another feed on that host>."""
    parts = urlsplit(url)
    host = (parts.hostname or "feed").removeprefix("www.")
    candidates = [host]
    same_host = [u for u in taken.values() if (urlsplit(u).hostname or "").removeprefix("www.") == host]
    if same_host:
        candidates = []
        other = dict(parse_qsl(urlsplit(same_host[0]).query))
        mine = parse_qsl(parts.query)
        differing = [f"{k}={v}" for k, v in mine if other.get(k) != v]
        candidates.append(f"{host}?{'&'.join(differing or [f'{k}={v}' for k, v in mine])}" if mine else
                          f"{host}{parts.path.rstrip('/')}")
    return _first_free(candidates, taken)


def _first_free(candidates: list[str], taken: dict[str, str]) -> str:
    for name in candidates:
        if name not in taken:
            return name
    n = 2
    while f"{candidates[-1]} ({n})" in taken:
        n += 1
    return f"{candidates[-1]} ({n})"


def _same_url(a: str, b: str) -> bool:
    pa, pb = urlsplit(a.strip()), urlsplit(b.strip())
    return (pa.scheme.lower(), (pa.netloc or "").lower(), pa.path or "/", pa.query) == \
        (pb.scheme.lower(), (pb.netloc or "").lower(), pb.path or "/", pb.query)


class FeedsPlatform(Platform):
    collector_module = "radpulse.collectors.feeds.collector"
    stores_posts = False
    name = "feeds"
    section = "feeds"
    prefix = "feed"
    label = "Journal feeds"
    add_kinds = ("feed",)
    default_interval_minutes = 60
    rate_limit = RateLimit(1, 60 * 60, "conditional GET once per collection")
    colour = "#0f766e"

    def settings_type(self) -> Any:
        return Annotated[list[FeedSettings], AfterValidator(_unique_names)]

    def default_settings(self) -> Any:
        return []

    def expand(self, section: list[FeedSettings]) -> list[SourceSpec]:
        return [SourceSpec(f"feed:{f.name}", "feeds", "feed", f.url, {"journal": f.journal}) for f in section]

    def add(self, doc: Any, request: AddRequest) -> str | None:
        try:
            url = check_feed_url(request.value)
        except ValueError as exc:
            raise InputError(f"{exc}.", hint="Give the full http(s):// address of the RSS or Atom feed.") from None
        feeds = toml_edit.array_of_tables(doc, "feeds")
        if any(_same_url(str(f.get("url", "")), url) for f in feeds):
            return None
        taken = {str(f.get("name")): str(f.get("url", "")) for f in feeds}
        journal = None
        if request.name:
            if request.name in taken:
                raise InputError(f"The feed name {request.name!r} is already used by {taken[request.name]}.",
                                 hint="Choose another --name, or leave it out to use the journal's title.")
            name = request.name
        else:
            journal = read_feed_title(url)
            name = _first_free([journal], taken) if journal else name_from_url(url, taken)
        feeds.append(toml_edit.new_table(name=name, url=url, journal=journal))
        return f"feed:{name}"

    def remove(self, doc: Any, name: str) -> bool:
        value = name.partition(":")[2]
        return toml_edit.drop_first(doc, "feeds", lambda f: f.get("name") == value or _same_url(str(f.get("url", "")), value))


PLATFORM = register_platform(FeedsPlatform())
