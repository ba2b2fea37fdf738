"""The praw client radpulse uses: paced to the request budget, with errors translated.

Three layers keep radpulse inside Reddit's 100 requests per minute per OAuth client:

1. `PacedRequestor` (the HTTP layer under prawcore) spaces requests to at most
   `settings.reddit.requests_per_minute` with a small token bucket, and honours a 429's
   `Retry-After` (or `x-ratelimit-reset`) by sleeping and retrying a bounded number of times.
2. prawcore's own `RateLimiter` paces on the `x-ratelimit-remaining/used/reset` headers over
   Reddit's 600-second window (`window_size`), and retries 5xx and timeouts twice with jitter.
3. `call()` retries what is still failing (5xx, timeouts, connection errors) with the shared
   `RetryPolicy` of collectors/http.py, then raises `SourceUnavailable`.

Requests go through a session from collectors/http.py (connect/read timeouts from [network] and a
deadline for the whole answer).

Every prawcore/praw exception leaving `call()` is a radpulse `CollectorError` whose message
names the problem and whose hint says what to do.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import praw
import prawcore
import requests

from radpulse.collectors.http import Deadlines, RetryPolicy, deadline_session, retry_after
from radpulse.config import Settings
from radpulse.errors import (
    AuthError,
    BadPayload,
    CollectorError,
    NotFound,
    RateLimited,
    SourceUnavailable,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

CLIENT = f"praw {praw.__version__} (prawcore {prawcore.__version__})"
#: Reddit averages its request budget over this many seconds (prawcore's window_size)
WINDOW_SECONDS = 600
#: longest 429 wait honoured in-process; longer ones end the run with RateLimited
MAX_RATE_LIMIT_WAIT = 600.0
#: 429 answers retried (after waiting) before giving up on the request
RATE_LIMIT_RETRIES = 2
#: attempts of one API call on 5xx/timeouts on top of prawcore's own two retries, 5-10 s apart
RETRY = RetryPolicy(attempts=2, base=10.0, cap=60.0)


class PacedRequestor(prawcore.Requestor):
    """prawcore's requestor with a request pacer and Retry-After handling for 429 answers."""

    def __init__(self, *args: Any, requests_per_minute: int = 100, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.interval = 60.0 / requests_per_minute
        #: back-to-back requests allowed before pacing starts (10 at 100 requests/minute)
        self.burst = max(1.0, requests_per_minute / 10)
        self._tokens = self.burst
        self._last = time.monotonic()

    def _pace(self) -> None:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._last) / self.interval)
        self._last = now
        if self._tokens < 1:
            wait = (1 - self._tokens) * self.interval
            time.sleep(wait)
            self._tokens = 1.0
            self._last = time.monotonic()
        self._tokens -= 1

    def request(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> requests.Response:
        """Issue the request after pacing; wait out and retry 429 answers (bounded)."""
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            self._pace()
            response = super().request(*args, timeout=timeout, **kwargs)
            if response.status_code != 429:
                return response
            wait = retry_after_seconds(response.headers)
            if attempt == RATE_LIMIT_RETRIES or wait is None or wait > MAX_RATE_LIMIT_WAIT:
                return response
            log.warning("Reddit answered 429; waiting %.0f s as it asked", wait)
            time.sleep(wait)
        return response  # pragma: no cover - the loop always returns


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date), else `x-ratelimit-reset`."""
    wait = retry_after(headers)
    if wait is not None:
        return wait
    reset = headers.get("x-ratelimit-reset")
    if reset:
        try:
            return max(0.0, float(reset))
        except ValueError:
            return None
    return None


def make_reddit(settings: Settings) -> praw.Reddit:
    """A read-only praw client for the "script" app in REDDIT_CLIENT_ID/REDDIT_CLIENT_SECRET."""
    cfg = settings.reddit
    return praw.Reddit(
        client_id=settings.secret("REDDIT_CLIENT_ID"),
        client_secret=settings.secret("REDDIT_CLIENT_SECRET"),
        user_agent=cfg.user_agent,
        # application-only (read-only) OAuth whatever praw.ini or praw_* variables say: radpulse
        # resolves all configuration itself
        username=None,
        password=None,
        refresh_token=None,
        oauth_url="https://oauth.reddit.com",
        reddit_url="https://www.reddit.com",
        # praw's own wait for API "RATELIMIT" errors (writes); radpulse only reads
        ratelimit_seconds=300,
        window_size=WINDOW_SECONDS,
        timeout=settings.network.read_timeout_seconds,
        check_for_updates=False,
        check_for_async=False,
        requestor_class=PacedRequestor,
        requestor_kwargs={"requests_per_minute": cfg.requests_per_minute,
                          "session": deadline_session(Deadlines.from_settings(settings))},
    )


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, prawcore.RequestException) and isinstance(exc.original_exception, CollectorError):
        return False  # the deadline or the SSRF guard, not a flaky network
    return isinstance(exc, (prawcore.ServerError, prawcore.RequestException))


def call(fn: Callable[[], T], *, what: str) -> T:
    """Run one API call with bounded retries; translate every failure into a CollectorError."""
    try:
        return RETRY.call(fn, retry_if=_retryable)
    except CollectorError:
        raise
    except Exception as exc:
        raise translate(exc, what) from exc


def _reason(response: requests.Response | None) -> str:
    if response is None:
        return ""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("reason") or "") if isinstance(body, dict) else ""


def translate(exc: Exception, what: str) -> CollectorError:
    """The radpulse error for a praw/prawcore exception raised while reading `what`."""
    creds = (
        "Check REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET: they must be a 'script' app's id and "
        "secret from https://www.reddit.com/prefs/apps."
    )
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(exc, prawcore.OAuthException):
        return AuthError(f"{what}: Reddit refused the app credentials ({exc.error}).", hint=creds)
    if isinstance(exc, prawcore.InvalidToken) or status == 401:
        return AuthError(f"{what}: Reddit refused the credentials (401 Unauthorized).", hint=creds)
    if isinstance(exc, (prawcore.Forbidden, prawcore.InsufficientScope)) or status == 403:
        reason = _reason(response)
        kind = {
            "private": "private",
            "quarantined": "quarantined",
            "gold_only": "premium-only",
        }.get(reason, "private or quarantined")
        return AuthError(
            f"{what}: forbidden (403): the subreddit is {kind}, and a read-only app cannot read it.",
            hint="Private and quarantined subreddits need a logged-in account that was granted access "
            "or opted in; remove the subreddit from [reddit.subreddits] otherwise.",
        )
    if isinstance(exc, prawcore.NotFound) or status == 404:
        reason = _reason(response)
        why = "banned" if reason == "banned" else "banned or does not exist"
        return NotFound(
            f"{what}: not found (404): the subreddit is {why}.",
            hint="Check the name in [reddit.subreddits] (without 'r/').",
        )
    if isinstance(exc, prawcore.Redirect):
        return NotFound(
            f"{what}: Reddit redirected to {exc.path}: the subreddit does not exist.",
            hint="Check the name in [reddit.subreddits] (without 'r/').",
        )
    if isinstance(exc, prawcore.UnavailableForLegalReasons):
        return AuthError(
            f"{what}: unavailable for legal reasons (451).",
            hint="Remove it from [reddit.subreddits].",
        )
    if isinstance(exc, prawcore.TooManyRequests):
        wait = retry_after_seconds(response.headers) if response is not None else None
        reset_at = time.time() + wait if wait is not None else None
        return RateLimited(
            f"{what}: Reddit's rate limit is exhausted (429)"
            + (f"; it resets in {wait:.0f} s." if wait is not None else "."),
            reset_at=reset_at,
            hint="Lower [reddit].requests_per_minute or collect less often; the next run resumes where this stopped.",
        )
    if isinstance(exc, prawcore.ServerError) or (status is not None and status >= 500):
        return SourceUnavailable(
            f"{what}: Reddit kept answering {status} after retries.",
            hint="Reddit is having trouble; the next scheduled run resumes from the stored cursor.",
        )
    if isinstance(exc, prawcore.RequestException):
        original = exc.original_exception
        if isinstance(original, CollectorError):
            return type(original)(f"{what}: {original.message}", hint=original.hint)
        return SourceUnavailable(
            f"{what}: request failed after retries ({type(original).__name__}: {original}).",
            hint="Check the network connection; the next run resumes from the stored cursor.",
        )
    if isinstance(exc, prawcore.BadJSON):
        return BadPayload(
            f"{what}: Reddit answered with malformed JSON ({len(response.content) if response is not None else 0} bytes).",
            hint="Usually transient; if it persists, Reddit changed its API.",
        )
    if isinstance(exc, (json.JSONDecodeError, praw.exceptions.PRAWException)):
        return BadPayload(f"{what}: {type(exc).__name__}: {exc}")
    if isinstance(exc, prawcore.ResponseException):
        return CollectorError(f"{what}: Reddit answered HTTP {status}.")
    return CollectorError(f"{what}: {type(exc).__name__}: {exc}")
