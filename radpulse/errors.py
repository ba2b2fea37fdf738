"""The radpulse exception tree, in one module. The CLI turns every RadpulseError into a message
and an exit code; the runner records a CollectorError as the run's status and goes on.

    RadpulseError                 base of everything radpulse raises on purpose (exit code 2)
    ├── ConfigError               a config file or value is missing or invalid
    ├── DatabaseError             the database is unreachable, locked, corrupt or too new
    ├── InputError                a file or argument given by the user cannot be used
    ├── JobTimeout                a scheduled job ran past its time budget and was stopped
    ├── JobFailed                 a job run in a child process raised there, or the child died
    ├── JobStopped                a job's child process was stopped (SIGTERM) before it finished
    └── CollectorError            a source could not be collected (one source; others go on)
        ├── NotConfigured         credentials or settings for the source are missing
        ├── AuthError             the service refused the credentials (401/403)
        ├── NotFound              the tracked thing does not exist at the source (404/410)
        ├── BadRequest            the service rejected the request's parameters (400/422)
        ├── RateLimited           the service said to wait (429); carries reset time
        ├── BudgetExhausted       the configured read budget would be exceeded
        ├── UnsafeURL             a URL not from the config leads to a private or metadata address
        ├── SourceUnavailable     timeouts, connection errors and 5xx after retries
        │   ├── DeadlineExceeded  the whole request took longer than its deadline
        │   └── RedirectLoop      the server redirected too many times
        └── BadPayload            the service answered with something unparseable

HTTP statuses map onto this tree in one table, `radpulse.collectors.http.STATUS_EXCEPTIONS`.
"""

from __future__ import annotations


class RadpulseError(Exception):
    """Base of every error radpulse raises on purpose; `hint` says what to do next."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class ConfigError(RadpulseError):
    """A configuration file or value is missing or invalid."""


class DatabaseError(RadpulseError):
    """The database cannot be used as it is."""


class InputError(RadpulseError):
    """A file or argument given by the user cannot be used."""


class CollectorError(RadpulseError):
    """One source could not be collected; the runner records it and moves on."""

    status = "failed"


class NotConfigured(CollectorError):
    """Credentials or settings needed by a source are missing."""

    status = "not_configured"


class AuthError(CollectorError):
    """The service refused the credentials or the access tier."""


class NotFound(CollectorError):
    """The tracked hashtag, subreddit, feed or record does not exist at the source."""


class RateLimited(CollectorError):
    """The service asked us to wait until `reset_at` (epoch seconds) before calling again."""

    status = "rate_limited"

    def __init__(self, message: str, *, reset_at: float | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.reset_at = reset_at


class BudgetExhausted(CollectorError):
    """Collecting more would spend more than the configured budget."""

    status = "budget_exhausted"


class SourceUnavailable(CollectorError):
    """Timeouts, connection errors or server errors persisted after retries."""


class BadPayload(CollectorError):
    """The service answered with something that cannot be parsed."""


class BadRequest(CollectorError):
    """The service rejected the request's parameters (400); `detail` is its explanation."""

    def __init__(self, message: str, *, detail: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.detail = detail


class UnsafeURL(CollectorError):
    """A URL that did not come from the operator's config resolves to a non-public address."""


class DeadlineExceeded(SourceUnavailable):
    """A request (connect, headers and the whole body) took longer than its deadline."""


class RedirectLoop(SourceUnavailable):
    """The server kept redirecting (a loop, or more hops than allowed)."""


class JobTimeout(RadpulseError):
    """A scheduled job ran past its time budget; it was stopped and recorded as failed."""


class JobFailed(RadpulseError):
    """A job run in a child process (radpulse/child_jobs.py) raised there, or the child died."""


class JobStopped(RadpulseError):
    """A job's child process was stopped (SIGTERM) before it finished; its transaction rolled back."""


#: how getaddrinfo failures read once a library has re-raised them as its own error
_DNS_MESSAGES = ("name or service not known", "nodename nor servname", "getaddrinfo failed",
                 "temporary failure in name resolution", "no address associated with hostname")


def network_reason(exc: BaseException) -> str:
    """What went wrong on the network, in a few words, from an exception and its causes.

    Client libraries wrap the real cause several times (Mastodon.py around requests around
    urllib3 around socket); the user needs the cause, not the chain.
    """
    import socket
    import ssl

    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 20:
        chain.append(current)
        cause = current.__cause__
        current = cause if cause is not None else (None if current.__suppress_context__ else current.__context__)
    names = {type(e).__name__ for e in chain}
    texts = " ".join(str(e) for e in chain).lower()
    if ("NameResolutionError" in names or any(isinstance(e, socket.gaierror) for e in chain)
            or any(m in texts for m in _DNS_MESSAGES)):
        return "the host name does not resolve"
    for e in chain:
        if isinstance(e, ConnectionRefusedError) or "ConnectionRefused" in type(e).__name__:
            return "the connection was refused"
        if isinstance(e, TimeoutError) or "Timeout" in type(e).__name__:
            return "the connection timed out"
        if isinstance(e, ssl.SSLError) or "SSL" in type(e).__name__:
            return f"the TLS handshake failed ({getattr(e, 'reason', None) or e})"
    network = [e for e in chain if isinstance(e, OSError)
               or type(e).__module__.split(".")[0] in ("httpx", "httpcore", "urllib3", "requests", "socket", "ssl")]
    root = network[-1] if network else chain[0]
    text = str(root).strip() or type(root).__name__
    return text if len(text) <= 200 else text[:197] + "..."
