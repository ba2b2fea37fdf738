"""The X API v2 through tweepy's Client: paced on rate-limit headers, retried, errors mapped.

tweepy does the HTTP (`Client(return_type=requests.Response)`) over a session from
collectors/http.py (connect/read timeouts and a deadline for the whole answer); this module adds
X's side of the shared policy: pacing on `x-rate-limit-remaining`/`x-rate-limit-reset` with the
shared RateLimiter, 429 waits that honour `Retry-After` and the reset time, the shared
RetryPolicy's bounded jittered backoff for 5xx and timeouts, and X's error bodies turned into
radpulse errors that say what to do. Sleeping goes through `time.sleep`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson
import requests
import tweepy

from radpulse.collectors.http import (
    Deadlines, RateLimiter, RetryPolicy, deadline_session, error_for_status, retry_after,
)
from radpulse.errors import AuthError, BadPayload, BadRequest, CollectorError, NotFound, RateLimited, SourceUnavailable

CLIENT = f"tweepy/{tweepy.__version__}"
# tweepy's DEBUG log prints every request's headers, bearer token included: never let it through
logging.getLogger("tweepy.client").setLevel(logging.INFO)
#: the longest radpulse waits for a rate-limit window (recent search windows are 15 minutes)
MAX_RATE_WAIT = 15 * 60 + 1
PORTAL = "https://developer.x.com/en/portal/dashboard"


#: X's 400 answer: the source's query is wrong (`detail` is X's explanation)
XBadRequest = BadRequest


def new_limiter(clock: Callable[[], float] = time.time) -> RateLimiter:
    """The pacer of one X session: X reports its window reset as epoch seconds."""
    return RateLimiter(clock=clock, max_wait=MAX_RATE_WAIT)


def update_limits(limiter: RateLimiter, headers: Mapping[str, str]) -> None:
    """Remember the window state an answer reported in x-rate-limit-remaining/-reset."""
    remaining, reset = headers.get("x-rate-limit-remaining"), headers.get("x-rate-limit-reset")
    limiter.update(int(remaining) if remaining is not None and str(remaining).isdigit() else None,
                   reset_at=float(reset) if reset is not None and str(reset).isdigit() else None)


def delay_after_429(limiter: RateLimiter, headers: Mapping[str, str]) -> float | None:
    """Seconds to wait after a 429: Retry-After, else until x-rate-limit-reset (+1 s)."""
    wait = retry_after(headers)
    if wait is not None:
        return wait
    reset = headers.get("x-rate-limit-reset")
    if reset is not None and reset.strip().isdigit():
        return max(0.0, float(reset) - limiter.clock() + 1)
    return None


def error_detail(response: requests.Response | None) -> dict[str, Any]:
    """X's error body as a dict (v2 problem JSON or v1.1 {"errors": [...]}); {} when not JSON."""
    if response is None:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _describe(body: Mapping[str, Any]) -> str:
    parts = [str(body[k]) for k in ("title", "detail") if body.get(k)]
    for err in body.get("errors") or ():
        if isinstance(err, dict):
            parts += [str(err[k]) for k in ("message", "detail") if err.get(k)]
        elif isinstance(err, str):
            parts.append(err)
    if isinstance(body.get("error"), str):
        parts.append(body["error"])
    return "; ".join(dict.fromkeys(parts))


def is_tier_error(body: Mapping[str, Any]) -> bool:
    """X's "client-not-enrolled" / "different access level" answer (the app's tier lacks the endpoint)."""
    if body.get("reason") == "client-not-enrolled" or body.get("required_enrollment"):
        return True
    codes = {e.get("code") for e in body.get("errors") or () if isinstance(e, dict)}
    return 453 in codes or "access level" in _describe(body).lower()


def http_error(exc: tweepy.HTTPException, endpoint: str, label: str) -> CollectorError:
    """The radpulse error for a 4xx answer of X."""
    response = exc.response
    status = getattr(response, "status_code", None)
    body = error_detail(response)
    detail = _describe(body) or str(exc)
    if status == 401:
        return AuthError(
            f"{label}: X rejected the bearer token (401 Unauthorized: {detail}).",
            hint="Check that X_BEARER_TOKEN holds the app's current bearer token; regenerate it in "
            f"the X developer portal ({PORTAL}) if it was revoked.",
        )
    if status == 403 and is_tier_error(body):
        return AuthError(
            f"{label}: the X app's access tier does not include {endpoint} (403: {detail}).",
            hint="The bearer token belongs to an app whose access level does not cover recent search. "
            f"In the X developer portal ({PORTAL}) attach the app to a Project with pay-per-use "
            "(or Basic or higher) access, then set X_BEARER_TOKEN to that app's token; or set "
            "[x] enabled = false to stop collecting X.",
        )
    if status == 403:
        return AuthError(
            f"{label}: X refused {endpoint} (403 Forbidden: {detail}).",
            hint=f"The app may be suspended or lack permission for this endpoint; check it in {PORTAL}.",
        )
    if status == 404:
        return NotFound(
            f"{label}: X answered 404 Not Found for {endpoint} ({detail}).",
            hint="Check the source's hashtag or query; remove it from [x] if it no longer exists.",
        )
    if status == 400:
        return XBadRequest(
            f"{label}: X rejected the request to {endpoint} (400 Bad Request: {detail}).",
            detail=detail,
            hint="Check the query syntax of this source in [x].hashtags / [x].queries.",
        )
    return error_for_status(status or 0, f"{label}: X {endpoint}", detail)


def decode(response: requests.Response, endpoint: str, label: str) -> dict[str, Any]:
    """The JSON object of a successful response; BadPayload when it is not one."""
    content = response.content
    try:
        body = orjson.loads(content)
    except ValueError as exc:
        raise BadPayload(
            f"{label}: X answered {endpoint} with malformed JSON ({exc.__class__.__name__} at "
            f"byte {getattr(exc, 'pos', '?')} of {len(content)}: {content[:80]!r}).",
            hint="Usually transient: run the collection again. Nothing from this page was stored.",
        ) from None
    if not isinstance(body, dict):
        raise BadPayload(
            f"{label}: X answered {endpoint} with JSON {type(body).__name__}, expected an object.",
            hint="Run again later; report it if it persists.",
        )
    return body


class XApi:
    """One X API v2 session: a tweepy Client plus pacing, retries and error mapping."""

    def __init__(
        self,
        bearer_token: str,
        *,
        deadlines: Deadlines = Deadlines(),
        retry: RetryPolicy = RetryPolicy(),
        limiter: RateLimiter | None = None,
    ) -> None:
        self.client = tweepy.Client(bearer_token, return_type=requests.Response, wait_on_rate_limit=False)
        self.client.session = deadline_session(deadlines)
        self.retry = retry
        self.limiter = limiter or new_limiter()
        self.rate_limit_retries = retry.rate_limit_retries

    def call(self, method: Callable[..., Any], endpoint: str, label: str, **params: Any) -> dict[str, Any]:
        """Call a tweepy Client method; the decoded JSON body, or a radpulse error."""
        retries = rate_waits = 0
        while True:
            self.limiter.wait()
            try:
                response = method(**params)
            except tweepy.TooManyRequests as exc:
                headers = exc.response.headers
                update_limits(self.limiter, headers)
                delay = delay_after_429(self.limiter, headers)
                reset = headers.get("x-rate-limit-reset")
                reset_at = float(reset) if reset and reset.isdigit() else None
                if delay is None or delay > self.limiter.max_wait or rate_waits >= self.rate_limit_retries:
                    raise RateLimited(
                        f"{label}: X rate limit reached for {endpoint} (429: "
                        f"{_describe(error_detail(exc.response)) or 'Too Many Requests'}).",
                        reset_at=reset_at,
                        hint="The next scheduled run resumes from the last stored page; if this is "
                        "the monthly cap, raise it in the X developer portal.",
                    ) from None
                self.limiter.pause(delay)  # that wait was the window's reset
                rate_waits += 1
                continue
            except tweepy.TwitterServerError as exc:
                problem = f"{exc.response.status_code} {exc.response.reason}"
            except (requests.Timeout, requests.ConnectionError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            except tweepy.HTTPException as exc:
                raise http_error(exc, endpoint, label) from None
            else:
                update_limits(self.limiter, response.headers)
                return decode(response, endpoint, label)
            if retries + 1 >= self.retry.attempts:
                raise SourceUnavailable(
                    f"{label}: X {endpoint} failed {self.retry.attempts} times ({problem}).",
                    hint="X or the network is having trouble; the next run resumes from the last "
                    "stored page.",
                )
            retries += 1
            time.sleep(self.retry.delay(retries))

    def close(self) -> None:
        self.client.session.close()
