"""Journal feeds (RSS 0.9x/1.0/2.0 and Atom): table-of-contents items as ArticleRecords.

Fetching: httpx through collectors/http.py (User-Agent, deadlines, retries, redirects checked by
the SSRF guard, since a redirect target is not the operator's URL) and a conditional GET (the
ETag and Last-Modified of the last answer are kept in the cursor; a 304 is a successful run
with nothing new). Bodies are streamed with a size cap (`MAX_FEED_BYTES`, 5 MiB): a larger
feed is cut after its last complete item within the cap, the items before the cut are kept
and the run is marked "warning" with the reason. Parsing: feedparser on the bytes; a feed with
broken XML is still parsed as far as it goes and the problem is recorded as a warning.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from radpulse.collectors.base import Collector
from radpulse.collectors.feeds.normalise import ParsedFeed, parse_feed
from radpulse.collectors.registry import register
from radpulse.config import Settings
from radpulse.errors import BadPayload
from radpulse.collectors.http import Deadlines, RetryPolicy, new_client, send
from radpulse.records import Batch, SourceSpec, utcnow

#: largest feed body read (decoded bytes); the rest of a larger feed is skipped with a warning
MAX_FEED_BYTES = 5 * 1024 * 1024
_ITEM_END = re.compile(rb"</(?:\w+:)?(?:item|entry)\s*>", re.IGNORECASE)
_HTML = re.compile(rb"<(?:!doctype\s+html|html[\s>])", re.IGNORECASE)


@dataclass
class FetchResult:
    """One HTTP exchange with a feed: status, body (possibly cut at the cap) and validators."""

    status: int
    content: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    truncated: bool = False
    url: str = ""


def cut_at_last_item(content: bytes) -> bytes:
    """The bytes up to the end of the last complete </item> or </entry> (all if none)."""
    last = None
    for last in _ITEM_END.finditer(content):
        pass
    return content[: last.end()] if last else content


@register
class FeedCollector(Collector):
    """Collects one RSS/Atom feed per source (kind "feed", value = the feed URL)."""

    platform = "feeds"
    kinds = ("feed",)
    stores_posts = False
    #: defaults for every instance (the runner builds collectors from settings alone)
    deadlines: Deadlines | None = None  # None: from [network] in the settings
    max_bytes: int = MAX_FEED_BYTES
    retry: RetryPolicy = RetryPolicy()

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        deadlines: Deadlines | None = None,
        max_bytes: int | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(settings)
        self.deadlines = deadlines or self.deadlines or Deadlines.from_settings(settings)
        self.client = new_client(deadlines=self.deadlines, transport=transport,
                                 allow_private=settings.network.allow_private_hosts,
                                 headers={"Accept": "application/rss+xml, application/atom+xml, "
                                          "application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"})
        self.max_bytes = max_bytes or self.max_bytes
        self.retry = retry or self.retry

    def fetch(self, url: str, cursor: dict | None, *, what: str) -> FetchResult:
        """GET `url` conditionally (validators from `cursor`), reading at most max_bytes."""
        headers = {}
        if cursor and cursor.get("etag"):
            headers["If-None-Match"] = cursor["etag"]
        if cursor and cursor.get("last_modified"):
            headers["If-Modified-Since"] = cursor["last_modified"]
        result = FetchResult(status=0, url=url)

        def call() -> httpx.Response:
            response = self.client.send(self.client.build_request("GET", url, headers=headers), stream=True)
            try:
                if response.status_code == 200:
                    body = bytearray()
                    truncated = False
                    for chunk in response.iter_bytes():
                        room = self.max_bytes - len(body)
                        if len(chunk) > room:
                            body += chunk[:room]
                            truncated = True
                            break
                        body += chunk
                    result.content, result.truncated = bytes(body), truncated
            finally:
                response.close()
            return response

        response = send(call, what=what, ok=(200, 304), retry=self.retry)
        result.status = response.status_code
        result.etag = response.headers.get("ETag")
        result.last_modified = response.headers.get("Last-Modified")
        result.content_type = response.headers.get("Content-Type")
        result.url = str(response.url)
        return result

    def collect(self, source: SourceSpec, cursor: dict | None) -> Iterator[Batch]:
        what = source.name
        now = utcnow()
        fetched = self.fetch(source.value, cursor, what=what)
        if fetched.status == 304:
            yield Batch(cursor={**(cursor or {}), "checked_at": now.isoformat()}, fetched=0)
            return
        content = fetched.content
        warnings: list[str] = []
        if fetched.truncated:
            content = cut_at_last_item(content)
        if not content.strip():
            raise BadPayload(f"{what}: the server sent an empty response instead of a feed.",
                             hint="Check the feed URL in a browser; the publisher may have moved it.")
        digest = hashlib.sha256(content).hexdigest()
        new_cursor = {"etag": fetched.etag, "last_modified": fetched.last_modified, "sha256": digest,
                      "checked_at": now.isoformat()}
        if cursor and cursor.get("sha256") == digest and not fetched.truncated:
            # same bytes as last time (a server without validators): nothing new to store
            yield Batch(cursor=new_cursor, fetched=0)
            return
        parsed = parse_feed(content, feed_url=source.value, journal=source.settings.get("journal"), retrieved_at=now)
        self._check_is_feed(parsed, fetched, content, what)
        if fetched.truncated:
            parsed.warnings = [w for w in parsed.warnings if "not well-formed" not in w]
            warnings.append(f"{what}: feed larger than {self.max_bytes // 1024} KiB; read the first "
                            f"{parsed.entries} item(s), the rest was skipped")
        warnings += [f"{what}: {w}" for w in parsed.warnings]
        if not parsed.entries:
            warnings.append(f"{what}: the feed has no items")
        yield Batch(articles=parsed.articles, quarantined=parsed.quarantined, warnings=warnings,
                    cursor=new_cursor, fetched=parsed.entries)

    @staticmethod
    def _check_is_feed(parsed: ParsedFeed, fetched: FetchResult, content: bytes, what: str) -> None:
        if parsed.version or parsed.entries:
            return
        ctype = fetched.content_type or "no content type"
        if _HTML.search(content[:4096]) or "html" in ctype.lower():
            raise BadPayload(f"{what}: the server sent an HTML page ({ctype}), not an RSS/Atom feed.",
                             hint="The feed URL may now redirect to a web page; find the journal's "
                             "current RSS link and update the source.")
        detail = "; ".join(parsed.warnings) or "no RSS or Atom root element"
        raise BadPayload(f"{what}: the response is not a readable feed ({detail}).",
                         hint="Check the feed URL; the publisher may serve something else now.")

    def close(self) -> None:
        self.client.close()


__all__ = ["MAX_FEED_BYTES", "FeedCollector", "FetchResult", "cut_at_last_item"]
