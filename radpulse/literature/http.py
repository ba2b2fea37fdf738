"""HTTP plumbing shared by the literature collectors (feeds, PubMed, Crossref).

Small objects in the manner of prawcore: a `RateLimiter` that paces calls with
`time.monotonic` and `time.sleep`, a frozen `RetryPolicy` with bounded jittered backoff for
timeouts, connection errors and 5xx, and `STATUS_ERRORS` mapping HTTP statuses to radpulse's
exception classes. Every request carries radpulse's descriptive User-Agent.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

import httpx

from radpulse import __version__
from radpulse.errors import AuthError, CollectorError, NotFound, RateLimited, SourceUnavailable

USER_AGENT = f"radpulse/{__version__} (+https://github.com/radpulse/radpulse)"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)

STATUS_ERRORS: dict[int, type[CollectorError]] = {
    401: AuthError,
    403: AuthError,
    404: NotFound,
    410: NotFound,
    429: RateLimited,
}


def new_client(*, timeout: httpx.Timeout | float = TIMEOUT, headers: dict[str, str] | None = None,
               transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """An httpx client with radpulse's User-Agent, timeouts and redirects followed."""
    return httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        transport=transport,
    )


class RateLimiter:
    """At most `rate` calls per second: `wait()` sleeps until the next call is allowed."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0

    def set_rate(self, rate: float) -> None:
        """Change the pace; the wait already scheduled for the next call changes with it."""
        interval = 1.0 / rate if rate > 0 else 0.0
        self._next += interval - self.interval
        self.interval = interval

    @staticmethod
    def clock() -> float:
        return time.monotonic()

    def wait(self) -> None:
        now = self.clock()
        if self._next > now:
            time.sleep(self._next - now)
            now = self.clock()
        self._next = now + self.interval

    def pause(self, seconds: float) -> None:
        """Sleep `seconds` now (a server asked us to wait) and count from the end of it."""
        time.sleep(seconds)
        self._next = self.clock() + self.interval


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry timeouts, connection errors and 5xx `attempts` times with capped jittered backoff."""

    attempts: int = 4
    base: float = 1.0
    cap: float = 30.0
    #: longest Retry-After radpulse waits for on a 429 before giving up with RateLimited
    max_wait: float = 120.0

    def delay(self, attempt: int) -> float:
        return min(self.cap, self.base * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from a Retry-After header (delta or HTTP date), or None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def send(
    call: Callable[[], httpx.Response],
    *,
    what: str,
    ok: Collection[int] = (200,),
    retry: RetryPolicy = RetryPolicy(),
    limiter: RateLimiter | None = None,
) -> httpx.Response:
    """Run `call` with pacing and retries; return a response whose status is in `ok`.

    Raises SourceUnavailable after retries, RateLimited when the server's wait is too long,
    AuthError/NotFound for 401/403/404/410 and SourceUnavailable for other statuses.
    """
    last = ""
    for attempt in range(1, retry.attempts + 1):
        if limiter is not None:
            limiter.wait()
        try:
            response = call()
        except httpx.TimeoutException as exc:
            last = f"timed out ({type(exc).__name__})"
        except httpx.TransportError as exc:
            last = f"connection failed ({type(exc).__name__}: {exc})"
        else:
            status = response.status_code
            if status in ok:
                return response
            response.close()
            if status == 429 or status >= 500:
                wait = retry_after(response)
                last = f"HTTP {status}"
                if status == 429:
                    if wait is None:
                        wait = retry.delay(attempt)
                    if wait > retry.max_wait or attempt == retry.attempts:
                        raise RateLimited(
                            f"{what}: rate limited (HTTP 429), asked to wait {wait:.0f}s.",
                            reset_at=time.time() + wait,
                            hint="Run again later; radpulse resumes where it stopped.",
                        )
                    if limiter is not None:
                        limiter.pause(wait)
                    else:
                        time.sleep(wait)
                    continue
            else:
                cls = STATUS_ERRORS.get(status, SourceUnavailable)
                raise cls(
                    f"{what}: the server answered HTTP {status} {response.reason_phrase}.",
                    hint=_hint(status),
                )
        if attempt < retry.attempts:
            time.sleep(retry.delay(attempt))
    raise SourceUnavailable(
        f"{what}: {last} after {retry.attempts} attempts.",
        hint="The service may be down or slow; the next scheduled run tries again.",
    )


def _hint(status: int) -> str:
    if status in (401, 403):
        return "The server refused access; check the URL and any API key."
    if status in (404, 410):
        return "Check the URL; the resource may have moved or been removed."
    return "Check the URL and the request; the next run tries again."
