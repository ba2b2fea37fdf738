"""Bluesky: app.bsky.feed.searchPosts per tracked tag or query, through the atproto SDK.

The cursor of a source is `{"since": <sortAt of the newest post stored>}`. A run asks for posts
since then, newest first (`sort=latest`), and pages back through the search cursor. Until the
walk is complete the stored cursor keeps the old `since` together with the search page to
resume from and the newest time seen (`{"since", "newest", "page"}`), so a crash or the
`max_pages_per_run` bound resumes exactly there with no gap; once complete, `since` moves to the
newest time seen. `since` is inclusive, so the boundary post is read again and simply updated.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson
from atproto import models

from radpulse.collectors.base import Collector, chunked
from radpulse.collectors.http import Deadlines
from radpulse.collectors.payloads import NotJSON
from radpulse.collectors.registry import register
from radpulse.errors import AuthError, BadPayload, SourceUnavailable
from radpulse.records import JSON, AuthorRecord, Batch, PostRecord, PostRef, SourceSpec, provenance, utcnow

from .helpers import BlueskySession
from .normalise import PLATFORM, decode_posts, normalise_page, sort_at

try:  # pragma: no cover
    from importlib.metadata import version

    CLIENT = f"atproto/{version('atproto')}"
except Exception:  # noqa: BLE001
    CLIENT = "atproto"

#: app.bsky.feed.getPosts takes at most 25 URIs
REFRESH_BATCH = 25
SEARCH = "app.bsky.feed.searchPosts"
GET_POSTS = "app.bsky.feed.getPosts"


def _later(a: str | None, b: str | None) -> str | None:
    from .normalise import parse_time

    if not a or not b:
        return a or b
    return a if parse_time(a) >= parse_time(b) else b


def _posts_of(content: Any, what: str) -> tuple[list[Any], str | None]:
    """The posts (JSON as sent) and cursor of a searchPosts/getPosts answer, or BadPayload."""
    if isinstance(content, dict):  # a session whose Request decodes answers itself
        content = orjson.dumps(content)
    if not isinstance(content, bytes):
        raise BadPayload(f"bluesky: {what} answered with something that is not JSON")
    try:
        return decode_posts(content)
    except NotJSON as exc:
        raise BadPayload(f"bluesky: {what} answered with something that is not JSON ({exc})") from None
    except ValueError as exc:
        raise BadPayload(f"bluesky: {what} answered without a list of posts ({exc})") from None


@register
class BlueskyCollector(Collector):
    """searchPosts per query with `since`/cursor paging; refresh through getPosts."""

    platform = PLATFORM
    kinds = ("query",)
    required_env = ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD")

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self._session: BlueskySession | None = None
        #: the error that made the service unusable in this run (unreachable, login refused)
        self._down: SourceUnavailable | AuthError | None = None

    @property
    def session(self) -> BlueskySession:
        """The logged-in session (created on first use)."""
        if self._session is None:
            self._session = BlueskySession(
                self.settings.bluesky.service_url,
                self.settings.secret("BLUESKY_HANDLE"),
                self.settings.secret("BLUESKY_APP_PASSWORD"),
                raw_nsids=(SEARCH, GET_POSTS),
                deadlines=Deadlines.from_settings(self.settings),
            )
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.client.request.close()
            self._session = None

    def _endpoint(self, nsid: str) -> str:
        return f"{self.settings.bluesky.service_url.rstrip('/')}/xrpc/{nsid}"

    def _search(self, query: str, since: str | None, lang: str | None, page: str | None) -> tuple[list[Any], str | None]:
        params = models.AppBskyFeedSearchPosts.Params(
            q=query, sort="latest", since=since, lang=lang, limit=self.settings.bluesky.limit, cursor=page
        )
        response = self.session.call(
            f"searchPosts {query!r}", lambda client: client.invoke_query(SEARCH, params=params)
        )
        return _posts_of(response.content, f"searchPosts for {query!r}")

    def collect(self, source: SourceSpec, cursor: JSON | None) -> Iterator[Batch]:
        """Yield one Batch per searchPosts page newer than the cursor's `since`.

        When the service could not be reached (after retries), or refused the login, the other
        queries of the run end with the same message without trying again.
        """
        if self._down is not None:
            raise self._down
        try:
            yield from self._collect(source, cursor)
        except (SourceUnavailable, AuthError) as exc:
            self._down = type(exc)(exc.message, hint=exc.hint)
            raise

    def _collect(self, source: SourceSpec, cursor: JSON | None) -> Iterator[Batch]:
        state = dict(cursor or {})
        languages = list(source.settings.get("languages") or self.settings.bluesky.languages)
        # one language goes to the server; several are filtered here (searchPosts takes one)
        lang = languages[0] if len(languages) == 1 else None
        since: str | None = state.get("since")
        newest: str | None = state.get("newest", since)
        page_cursor: str | None = state.get("page")
        budget = self.settings.bluesky.max_pages_per_run
        known_authors: dict[bytes, AuthorRecord] = {}  # profiles read in this run, by their JSON
        for pages in range(1, budget + 1):
            views, next_page = self._search(source.value, since, lang, page_cursor)
            now = utcnow()
            for view in views:
                newest = _later(newest, sort_at(view))
            posts, authors, rejected = normalise_page(
                views, retrieved_at=now, provenance=provenance(self._endpoint(SEARCH), CLIENT, now),
                languages=languages if lang is None else (), known_authors=known_authors,
            )
            more = bool(next_page) and bool(views)
            new_state: JSON = {"since": since, "newest": newest, "page": next_page} if more else {"since": newest}
            batch = Batch(posts=posts, authors=authors, quarantined=rejected, cursor=new_state, fetched=len(views))
            if more and pages == budget:
                batch.warnings.append(
                    f"{source.name}: stopped after max_pages_per_run={budget} pages; the next run continues from here"
                )
            yield batch
            if not more:
                return
            page_cursor = next_page

    def refresh(self, posts: Sequence[PostRef]) -> Iterator[Batch]:
        """Current counts via getPosts, 25 URIs at a time; URIs missing from the answer are deleted."""
        known_authors: dict[bytes, AuthorRecord] = {}  # profiles read in this run, by their JSON
        for chunk in chunked(posts, REFRESH_BATCH):
            uris = [ref.external_id for ref in chunk]
            params = models.AppBskyFeedGetPosts.Params(uris=uris)
            response = self.session.call("getPosts", lambda client: client.invoke_query(GET_POSTS, params=params))
            views, _ = _posts_of(response.content, "getPosts")
            now = utcnow()
            found, authors, rejected = normalise_page(
                views, retrieved_at=now, provenance=provenance(self._endpoint(GET_POSTS), CLIENT, now),
                known_authors=known_authors,
            )
            seen = {p.external_id for p in found}
            gone = [
                PostRecord(platform=PLATFORM, external_id=ref.external_id, text=None, created_at=ref.created_at,
                           is_deleted=True, metrics_read_at=now)
                for ref in chunk
                if ref.external_id not in seen
            ]
            yield Batch(posts=found + gone, authors=authors, quarantined=rejected, fetched=len(views))
