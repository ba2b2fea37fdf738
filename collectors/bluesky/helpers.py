"""Talking to Bluesky through the atproto SDK: one logged-in session, errors mapped to radpulse's.

The SDK refreshes the session itself shortly before the access token expires; when the server
still answers ExpiredToken/InvalidToken we log in again once and repeat the call. When an answer's
RateLimit-Remaining is down to `RESERVE`, the next call first sleeps until its RateLimit-Reset. 429 answers
are honoured from their RateLimit-Reset (or Retry-After) header with time.sleep, at most
`RATE_LIMIT_RETRIES` times; 5xx answers and timeouts are retried with the shared `RetryPolicy`
(collectors/http.py), then reported as SourceUnavailable. The SDK's httpx client runs over
`DeadlineTransport`: connect/read timeouts and a deadline for each answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from atproto import Client
from atproto_client.exceptions import (
    AtProtocolError,
    BadRequestError,
    InvokeTimeoutError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    RequestException,
    UnauthorizedError,
)
from atproto_client.request import Request, Response

from radpulse.collectors.http import Deadlines, DeadlineTransport, RetryPolicy
from radpulse.errors import (
    AuthError,
    BadPayload,
    CollectorError,
    RateLimited,
    SourceUnavailable,
    network_reason,
)

T = TypeVar("T")

RETRY = RetryPolicy(attempts=3, base=1.0, cap=30.0)
ATTEMPTS = RETRY.attempts
RATE_LIMIT_RETRIES = 2
#: longest single wait for a rate-limit reset (Bluesky windows are 5 minutes)
MAX_WAIT = 300.0
_SESSION_ERRORS = ("ExpiredToken", "InvalidToken")
#: requests kept in hand before the window resets (RateLimit-Remaining)
RESERVE = 1


def error_name(exc: BaseException) -> tuple[int | None, str, str]:
    """(HTTP status, XRPC error name, message) of an SDK request error."""
    response = getattr(exc, "response", None)
    if response is None:
        return None, "", str(exc)
    content = response.content
    name = getattr(content, "error", None) or ""
    message = getattr(content, "message", None) or ""
    if isinstance(content, dict):
        name, message = content.get("error", ""), content.get("message", "")
    return response.status_code, name or "", message or ""


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, RateLimitExceededError):
        return False
    if isinstance(exc, (InvokeTimeoutError, NetworkError)):
        return True
    if isinstance(exc, RequestException):
        status = error_name(exc)[0]
        return status is not None and status >= 500
    return False


class RawQueries(Request):
    """atproto's Request, except that the JSON answers of the queries named in `raw_nsids` are
    returned as the bytes the server sent. radpulse reads those itself (collectors/bluesky/schema.py),
    keeping each post's JSON as sent instead of decoding everything and encoding it back. Every
    other call (login, session refresh) and every error answer goes through the SDK unchanged."""

    def __init__(self, raw_nsids: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.raw_nsids = tuple(f"/xrpc/{nsid}" for nsid in raw_nsids)

    def _new_instance(self) -> RawQueries:
        clone = super()._new_instance()
        clone.raw_nsids = self.raw_nsids
        return clone

    def get(self, *args: Any, **kwargs: Any) -> Response:
        url = str(kwargs.get("url") or (args[0] if args else ""))
        if not self.raw_nsids or not url.endswith(self.raw_nsids):
            return super().get(*args, **kwargs)
        response = self._send_request("GET", *args, **kwargs)  # raises the SDK's errors for non-2xx
        return Response(success=True, status_code=response.status_code, content=response.content,
                        headers={k.lower(): v for k, v in response.headers.items()})


class BlueskySession:
    """A lazily logged-in atproto Client with radpulse's retry and error policy."""

    def __init__(
        self, service_url: str, handle: str | None, password: str | None, raw_nsids: Iterable[str] = (),
        deadlines: Deadlines = Deadlines(),
    ) -> None:
        self.service_url = service_url
        self.handle = handle
        self.password = password
        self.client = Client(base_url=service_url, request=RawQueries(
            raw_nsids, timeout=deadlines.timeout, transport=DeadlineTransport(deadlines)))
        self.logged_in = False
        self.logins = 0
        #: epoch seconds to wait for before the next call (the window is spent)
        self.wait_until: float | None = None

    def _pace(self) -> None:
        if self.wait_until is not None:
            wait = self.wait_until - time.time()
            self.wait_until = None
            if wait > 0:
                time.sleep(min(wait, MAX_WAIT))

    def _note_limits(self, response: Any) -> None:
        """Remember the reset when RateLimit-Remaining is down to the reserve."""
        headers = getattr(response, "headers", None) or {}
        try:
            remaining = int(headers.get("ratelimit-remaining", RESERVE + 1))
            reset = float(headers["ratelimit-reset"]) if remaining <= RESERVE else None
        except (KeyError, TypeError, ValueError):
            return
        self.wait_until = reset

    def login(self) -> None:
        """Create a session with the handle and app password (once; again after ExpiredToken)."""
        try:
            self._retrying(lambda: self.client.login(self.handle, self.password, fetch_bsky_profile=False))
        except (UnauthorizedError, BadRequestError) as exc:
            status, name, message = error_name(exc)
            raise AuthError(
                f"bluesky: {self.service_url} refused the login of {self.handle!r} ({status} {name}: {message})".rstrip(),
                hint="Check BLUESKY_HANDLE and BLUESKY_APP_PASSWORD (Settings > Privacy and security > App passwords).",
            ) from None
        except RateLimitExceededError as exc:
            raise RateLimited(
                "bluesky: too many logins (429 on createSession)",
                reset_at=exc.reset_at.timestamp() if exc.reset_at else None,
                hint="Logins are limited to 30 per 5 minutes per account; wait and run again.",
            ) from None
        self.logged_in = True
        self.logins += 1

    def _retrying(self, fn: Callable[[], T]) -> T:
        try:
            return RETRY.call(fn, retry_if=_transient)
        except InvokeTimeoutError:
            raise SourceUnavailable(
                f"bluesky: {self.service_url} timed out {ATTEMPTS} times",
                hint="The service is slow or unreachable; the next run resumes from the cursor.",
            ) from None
        except (NetworkError, RequestException) as exc:
            if _transient(exc):
                status, name, message = error_name(exc)
                if status is None:
                    raise SourceUnavailable(
                        f"bluesky: could not reach {self.service_url} ({network_reason(exc)})",
                        hint="Check [bluesky] service_url and the network; the next run resumes from the cursor.",
                    ) from None
                raise SourceUnavailable(
                    f"bluesky: {self.service_url} failed {ATTEMPTS} times ({status} {name} {message}".rstrip() + ")",
                    hint="The service is having trouble; the next run resumes from the cursor.",
                ) from None
            raise
        except ValueError as exc:  # pydantic_core.from_json on a body that is not JSON
            raise BadPayload(f"bluesky: {self.service_url} answered with something that is not JSON ({exc})") from None

    def call(self, what: str, fn: Callable[[Client], Any]) -> Any:
        """Run `fn(client)` logged in: paced on RateLimit-*, 429 waits, one re-login on ExpiredToken, retries."""
        if not self.logged_in:
            self.login()
        relogged = False
        waits = 0
        while True:
            self._pace()
            try:
                response = self._retrying(lambda: fn(self.client))
                self._note_limits(response)
                return response
            except RateLimitExceededError as exc:
                reset = exc.reset_at.timestamp() if exc.reset_at else None
                if waits >= RATE_LIMIT_RETRIES:
                    raise RateLimited(
                        f"bluesky: rate limited (429) on {what}", reset_at=reset,
                        hint="Bluesky allows 3000 requests per 5 minutes; the next run resumes from the cursor.",
                    ) from None
                wait = exc.retry_after if exc.retry_after is not None else (reset - time.time() if reset else 0.0)
                time.sleep(min(max(wait, 1.0), MAX_WAIT))
                waits += 1
            except (UnauthorizedError, BadRequestError) as exc:
                status, name, message = error_name(exc)
                if name in _SESSION_ERRORS and not relogged:
                    relogged = True
                    self.login()
                    continue
                if isinstance(exc, UnauthorizedError):
                    raise AuthError(
                        f"bluesky: {status} {name or 'unauthorized'} on {what}: {message}".rstrip(": "),
                        hint="Check BLUESKY_HANDLE and BLUESKY_APP_PASSWORD; an app password may have been revoked.",
                    ) from None
                raise CollectorError(
                    f"bluesky: the service rejected {what} (400 {name}: {message})",
                    hint="Fix the query in [bluesky].queries (searchPosts takes Lucene-like syntax).",
                ) from None
            except RequestErrorBase as exc:
                status, name, message = error_name(exc)
                raise CollectorError(f"bluesky: {status} {name} on {what}: {message}".strip()) from None
            except AtProtocolError as exc:
                raise CollectorError(f"bluesky: {what} failed: {exc}") from None
