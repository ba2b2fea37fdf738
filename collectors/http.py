"""The one HTTP layer of every collector: pacing, retries, deadlines and error translation.

Small objects in the manner of prawcore (`rate_limit.py`, `sessions.py`):

- `RateLimiter` paces calls with `time.monotonic`: a steady rate (PubMed 3/s, Crossref from its
  headers), and a window the service reports (`remaining` calls until `reset`), as X, Reddit,
  Mastodon and Bluesky do in their rate-limit headers.
- `RetryPolicy` is frozen: bounded attempts with capped, jittered exponential backoff, and how
  long a server may ask us to wait. `RetryPolicy.call` is the one retry loop in radpulse.
- `STATUS_EXCEPTIONS` maps an HTTP status to its class of the radpulse exception tree
  (radpulse/errors.py); `error_for_status` and `transport_error` build the error with a hint.
- `Deadlines` bound every request: connect, read, and the whole exchange. A read timeout alone
  never stops a server that drips one byte at a time, so the body is read through
  `DeadlineTransport` (httpx) or `DeadlineAdapter` (requests, under tweepy, praw and
  Mastodon.py), which abandon it at the deadline (collectors/deadlines.py).

Collectors over plain HTTP (feeds, PubMed, Crossref) use `new_client` and `send`; those whose SDK
keeps its own transport (tweepy, praw, Mastodon.py, atproto) get `deadline_session` or
`DeadlineTransport` for their session and run each call through `RetryPolicy.call`.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TypeVar

import httpx
import requests

from radpulse import __version__
from radpulse.collectors.deadlines import (  # noqa: F401 - part of this layer's public names
    MAX_REDIRECTS, Deadlines, DeadlineAdapter, DeadlineTransport, deadline_session,
)
from radpulse.collectors.netguard import redirect_hook
from radpulse.errors import (
    AuthError, BadRequest, CollectorError, DeadlineExceeded, NotFound, RateLimited, RedirectLoop,
    SourceUnavailable, UnsafeURL, network_reason,
)

T = TypeVar("T")
USER_AGENT = f"radpulse/{__version__} (+https://github.com/radpulse/radpulse)"

STATUS_EXCEPTIONS: dict[int, type[CollectorError]] = {
    400: BadRequest,
    401: AuthError,
    403: AuthError,
    404: NotFound,
    410: NotFound,
    422: BadRequest,
    429: RateLimited,
}
_HINTS: dict[type[CollectorError], str] = {
    AuthError: "The server refused access; check the credentials, the URL and any API key.",
    NotFound: "Check the URL or name; the resource may have moved or been removed.",
    BadRequest: "Check the source's query or parameters in the config.",
    RateLimited: "Run again later; radpulse resumes where it stopped.",
    SourceUnavailable: "The service may be down or slow; the next scheduled run tries again.",
}


def error_for_status(status: int, what: str, detail: str = "", *, hint: str | None = None) -> CollectorError:
    """The radpulse error for an HTTP error status (5xx and unknown statuses: SourceUnavailable)."""
    cls = STATUS_EXCEPTIONS.get(status, SourceUnavailable)
    message = f"{what}: the server answered HTTP {status}" + (f" ({detail})." if detail else ".")
    return cls(message, hint=hint or _HINTS.get(cls))


def transport_error(exc: BaseException, what: str) -> CollectorError:
    """The radpulse error for a failed exchange (timeout, connection, redirect loop) of httpx or requests."""
    if isinstance(exc, CollectorError):
        return exc
    if isinstance(exc, (httpx.TooManyRedirects, requests.TooManyRedirects)):
        return RedirectLoop(f"{what}: the server redirected more than {MAX_REDIRECTS} times (a redirect loop).",
                            hint="Open the URL in a browser; the publisher's redirects are broken or the URL moved.")
    if isinstance(exc, (httpx.TimeoutException, requests.Timeout)):
        return SourceUnavailable(f"{what}: timed out ({type(exc).__name__}).", hint=_HINTS[SourceUnavailable])
    return SourceUnavailable(f"{what}: connection failed ({network_reason(exc)}).",
                             hint="Check the URL and the network; the next run tries again.")


def is_transient(exc: BaseException) -> bool:
    """Whether a transport exception is worth retrying (timeouts and connection errors)."""
    if isinstance(exc, (DeadlineExceeded, httpx.TooManyRedirects, requests.TooManyRedirects)):
        return False
    return isinstance(exc, (httpx.TransportError, requests.Timeout, requests.ConnectionError))


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or HTTP date), or None."""
    value = headers.get("Retry-After") or headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, parsed.timestamp() - time.time())


class RateLimiter:
    """Paces calls: at most `rate` per second, and none while a reported window is spent."""

    def __init__(self, rate: float = 0.0, *, reserve: int = 0, max_wait: float = 900.0,
                 clock: Callable[[], float] | None = None) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.reserve = reserve
        self.max_wait = max_wait
        if clock is not None:  # e.g. time.time, for services that report their reset as epoch seconds
            self.clock = clock  # type: ignore[method-assign]
        self._next = 0.0
        self.remaining: int | None = None
        self._reset_at: float | None = None  # on self.clock

    @staticmethod
    def clock() -> float:
        return time.monotonic()

    def set_rate(self, rate: float) -> None:
        """Change the pace; the wait already scheduled for the next call changes with it."""
        interval = 1.0 / rate if rate > 0 else 0.0
        self._next += interval - self.interval
        self.interval = interval

    def update(self, remaining: int | None, reset_in: float | None = None, *, reset_at: float | None = None) -> None:
        """Remember a window the service reported: calls left, and when it resets (seconds from
        now, or `reset_at` on this limiter's clock)."""
        if remaining is not None:
            self.remaining = remaining
        if reset_in is not None:
            self._reset_at = self.clock() + max(0.0, reset_in)
        elif reset_at is not None:
            self._reset_at = reset_at

    def seconds_to_reset(self) -> float | None:
        return None if self._reset_at is None else max(0.0, self._reset_at - self.clock())

    def wait(self) -> None:
        """Sleep until the next call is allowed."""
        now = self.clock()
        if self.remaining is not None and self.remaining <= self.reserve and self._reset_at is not None:
            if self._reset_at > now:
                time.sleep(min(self._reset_at - now + 1.0, self.max_wait))
            self.remaining, self._reset_at = None, None
            now = self.clock()
        if self._next > now:
            time.sleep(self._next - now)
            now = self.clock()
        self._next = now + self.interval

    def pause(self, seconds: float) -> None:
        """Sleep `seconds` now (a server asked us to wait); the window is fresh afterwards."""
        time.sleep(min(seconds, self.max_wait))
        self.remaining, self._reset_at = None, None
        self._next = self.clock() + self.interval


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries with capped jittered backoff; how long a server may make us wait."""

    attempts: int = 4
    base: float = 1.0
    cap: float = 30.0
    #: longest wait a server may ask for (429) before radpulse gives up with RateLimited
    max_wait: float = 120.0
    #: 429 answers waited out per call before giving up
    rate_limit_retries: int = 2

    def delay(self, attempt: int) -> float:
        """Seconds before retry number `attempt` (1-based): half fixed, half random."""
        full = min(self.cap, self.base * 2 ** (attempt - 1))
        return full / 2 + random.uniform(0, full / 2)

    def call(self, fn: Callable[[], T], *, retry_if: Callable[[BaseException], bool] = is_transient) -> T:
        """`fn()`, retried while it raises what `retry_if` accepts; the last exception re-raised."""
        for attempt in range(1, self.attempts + 1):
            try:
                return fn()
            except Exception as exc:
                if attempt >= self.attempts or not retry_if(exc):
                    raise
            time.sleep(self.delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover


def new_client(*, deadlines: Deadlines = Deadlines(), headers: dict[str, str] | None = None,
               transport: httpx.BaseTransport | None = None, allow_private: bool = False) -> httpx.Client:
    """An httpx client with radpulse's User-Agent and deadlines; redirects followed and checked."""
    return httpx.Client(
        timeout=deadlines.timeout,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        transport=DeadlineTransport(deadlines, transport),
        event_hooks={"response": [redirect_hook(allow_private=allow_private)]},
    )


def send(call: Callable[[], httpx.Response], *, what: str, ok: Collection[int] = (200,),
         retry: RetryPolicy = RetryPolicy(), limiter: RateLimiter | None = None) -> httpx.Response:
    """Run `call` paced and retried; a response whose status is in `ok`, or a radpulse error.

    Timeouts, connection errors and 5xx are retried (then SourceUnavailable); a 429 is waited
    out as the server asks (up to `retry.max_wait`, else RateLimited); other statuses raise the
    class `STATUS_EXCEPTIONS` names. Deadlines, redirect loops and unsafe URLs are not retried.
    """
    last = ""
    rate_waits = 0
    attempt = 0
    while attempt < retry.attempts:
        attempt += 1
        if limiter is not None:
            limiter.wait()
        try:
            response = call()
        except UnsafeURL as exc:
            raise UnsafeURL(f"{what}: {exc.message}", hint=exc.hint) from None
        except DeadlineExceeded as exc:
            raise DeadlineExceeded(f"{what}: {exc.message}", hint=exc.hint) from None
        except (httpx.TransportError, httpx.TooManyRedirects) as exc:
            if not is_transient(exc):
                raise transport_error(exc, what) from None
            last = transport_error(exc, what).message.removeprefix(f"{what}: ").rstrip(".")
        else:
            status = response.status_code
            if status in ok:
                return response
            response.close()
            if status == 429:
                wait = retry_after(response.headers)
                wait = retry.delay(attempt) if wait is None else wait
                if wait > retry.max_wait or rate_waits >= retry.rate_limit_retries:
                    raise RateLimited(f"{what}: rate limited (HTTP 429), asked to wait {wait:.0f}s.",
                                      reset_at=time.time() + wait, hint=_HINTS[RateLimited])
                rate_waits += 1
                attempt -= 1  # a wait the server asked for is not a failed attempt
                (limiter.pause if limiter is not None else time.sleep)(wait)
                continue
            if status < 500:
                raise error_for_status(status, what, response.reason_phrase)
            last = f"HTTP {status}"
        if attempt < retry.attempts:
            time.sleep(retry.delay(attempt))
    raise SourceUnavailable(f"{what}: {last} after {retry.attempts} attempts.", hint=_HINTS[SourceUnavailable])
