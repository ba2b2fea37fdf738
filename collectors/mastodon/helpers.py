"""Talking to Mastodon instances: one Mastodon.py client per host, paced on its rate-limit headers.

Mastodon.py runs with `ratelimit_method="throw"` and radpulse paces itself: after each answer the
client holds the instance's `X-RateLimit-Remaining` and `X-RateLimit-Reset` (default 300 requests
per 5 minutes); when the remainder is down to `RESERVE` we sleep until the reset before the next
call, and a 429 sleeps until the reset and retries (at most `RATE_LIMIT_RETRIES` times, each wait
capped at `MAX_WAIT`), then gives up with RateLimited. Server errors and timeouts are retried with
the shared `RetryPolicy` (collectors/http.py), then reported as SourceUnavailable. Requests go
through a session from collectors/http.py: connect/read timeouts and a deadline for each answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
)

from radpulse.collectors.http import Deadlines, RetryPolicy, deadline_session
from radpulse.errors import BadPayload, CollectorError, RateLimited, SourceUnavailable, network_reason

T = TypeVar("T")

USER_AGENT = "radpulse/0.1 (radiology conversation monitor; Mastodon.py)"
#: requests kept in hand before the window resets
RESERVE = 1
#: longest single wait for a rate-limit reset (Mastodon windows are 5 minutes)
MAX_WAIT = 300.0
RATE_LIMIT_RETRIES = 2
#: 5xx answers and network errors: 3 attempts
RETRY = RetryPolicy(attempts=3, base=1.0, cap=30.0)
ATTEMPTS = RETRY.attempts

#: the local id at the end of a Mastodon status URI or URL
_STATUS_ID = re.compile(r"/(?:statuses|@[^/]+)/([0-9A-Za-z]+)/?$")


def base_url(instance: str) -> str:
    """`https://` + instance, unless the instance is given with its scheme."""
    return instance.rstrip("/") if "://" in instance else "https://" + instance.strip("/")


def local_status_ref(uri: str | None, url: str | None) -> tuple[str, str] | None:
    """(origin base URL, local id) of a Mastodon-style status URI/URL, None for other servers."""
    for candidate in (uri, url):
        if not candidate:
            continue
        parts = urlsplit(candidate)
        m = _STATUS_ID.search(parts.path)
        if parts.scheme in ("http", "https") and parts.netloc and m:
            return f"{parts.scheme}://{parts.netloc}", m.group(1)
    return None


def newest_id(ids: list[str]) -> str:
    """The newest of Mastodon status ids (numeric snowflakes compare by length, then text)."""
    return max(ids, key=lambda s: (len(s), s))


def oldest_id(ids: list[str]) -> str:
    return min(ids, key=lambda s: (len(s), s))


def api_status(exc: BaseException) -> int | None:
    """The HTTP status of a Mastodon.py API error (its second argument)."""
    args = getattr(exc, "args", ())
    return args[1] if len(args) > 1 and isinstance(args[1], int) else None


@dataclass
class InstanceClient:
    """A Mastodon.py client for one host with radpulse's pacing and retries."""

    host: str
    api: Mastodon
    token_env: str | None = None
    has_token: bool = False
    #: body of the last successful answer (the payload is stored as the service sent it)
    last_body: bytes | None = None

    def _keep_body(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.ok:
            self.last_body = response.content

    def pace(self) -> None:
        """Sleep until the window resets when the remainder is down to the reserve."""
        remaining, reset = self.api.ratelimit_remaining, self.api.ratelimit_reset
        if remaining is not None and remaining <= RESERVE and reset:
            wait = reset - time.time()
            if wait > 0:
                self._wait(wait)

    def _wait(self, seconds: float) -> None:
        """Sleep for a window reset; afterwards the window is fresh."""
        time.sleep(min(seconds, MAX_WAIT))
        self.api.ratelimit_remaining = self.api.ratelimit_limit
        self.api.ratelimit_reset = None

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one API call paced, with 429 waits and 5xx/timeout retries; map failures."""
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            self.pace()
            try:
                return RETRY.call(fn, retry_if=_transient)
            except MastodonRatelimitError:
                reset = self.api.ratelimit_reset
                wait = (reset - time.time()) if reset else 0
                if attempt >= RATE_LIMIT_RETRIES:
                    raise RateLimited(
                        f"{self.host}: rate limited (429) on {what}",
                        reset_at=reset,
                        hint="The instance allows 300 requests per 5 minutes; the next run resumes from the cursor.",
                    ) from None
                self._wait(max(wait, 2.0 * (attempt + 1)))
            except MastodonServerError as exc:
                raise SourceUnavailable(
                    f"{self.host}: server error {api_status(exc)} on {what} after {ATTEMPTS} attempts",
                    hint="The instance is having trouble; the next run resumes from the cursor.",
                ) from None
            except MastodonNetworkError as exc:
                if isinstance(cause := _collector_cause(exc), CollectorError):  # the deadline
                    raise type(cause)(f"{self.host}: {what}: {cause.message}", hint=cause.hint) from None
                raise SourceUnavailable(
                    f"{self.host}: could not reach the instance ({network_reason(exc)})",
                    hint="Check the instance name and the network; the next run resumes from the cursor.",
                ) from None
            except MastodonAPIError as exc:
                if api_status(exc) is None and "JSON" in str(exc):
                    # Mastodon.py's message quotes the body: a stranger's text, never echoed
                    raise BadPayload(f"{self.host}: {what} answered with something that is not JSON") from None
                raise
        raise AssertionError("unreachable")  # pragma: no cover


def _collector_cause(exc: BaseException) -> BaseException | None:
    """The radpulse error (a deadline) Mastodon.py wrapped as a network error, if any."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, CollectorError):
            return current
        current, seen = current.__cause__ or current.__context__, seen + 1
    return None


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, MastodonNetworkError) and _collector_cause(exc) is not None:
        return False
    return isinstance(exc, (MastodonServerError, MastodonNetworkError))


def make_client(host: str, token: str | None, token_env: str | None = None,
                deadlines: Deadlines = Deadlines()) -> InstanceClient:
    """A paced Mastodon.py client for `host` (anonymous when `token` is None)."""
    api = Mastodon(
        api_base_url=base_url(host),
        access_token=token or None,
        ratelimit_method="throw",
        request_timeout=deadlines.pair,
        session=deadline_session(deadlines),
        user_agent=USER_AGENT,
        version_check_mode="none",
    )
    client = InstanceClient(host=host, api=api, token_env=token_env, has_token=bool(token))
    api.session.hooks["response"].append(client._keep_body)
    return client


def is_paginated(page: Any, direction: str) -> bool:
    """Whether a Mastodon.py page carries a Link-header cursor for `direction` ('next'/'prev')."""
    return bool(page) and getattr(page, f"_pagination_{direction}", None) is not None
