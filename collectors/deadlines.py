"""Deadlines for every request: connect, read, and the whole exchange.

A read timeout bounds each wait for bytes, so a server that drips one byte every few seconds
never trips it. `DeadlineTransport` (httpx) and `DeadlineAdapter` (requests, under tweepy, praw
and Mastodon.py) read the body chunk by chunk and abandon it once the total deadline has passed;
the read timeout is never longer than the deadline, so a request ends at most one read timeout
after its deadline, and in practice as soon as the next chunk arrives.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import requests
import requests.adapters

from radpulse.errors import DeadlineExceeded

#: redirects followed per request (each hop is checked by the SSRF guard)
MAX_REDIRECTS = 10


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Connect and read timeouts, and a deadline for the whole request (seconds)."""

    connect: float = 10.0
    read: float = 30.0
    total: float = 120.0

    @classmethod
    def from_settings(cls, settings: Any) -> Deadlines:
        net = settings.network
        return cls(net.connect_timeout_seconds, net.read_timeout_seconds, net.request_deadline_seconds)

    @property
    def timeout(self) -> httpx.Timeout:
        read = min(self.read, self.total)
        return httpx.Timeout(read, connect=min(self.connect, self.total), read=read)

    @property
    def pair(self) -> tuple[float, float]:
        """(connect, read) for requests."""
        return min(self.connect, self.total), min(self.read, self.total)

    def exceeded(self, url: object) -> DeadlineExceeded:
        return DeadlineExceeded(f"{url} did not finish within its {self.total:g} s deadline "
                                "(the server is too slow or sends its answer a little at a time).",
                                hint="[network] request_deadline_seconds sets the deadline; the next run tries again.")


class _DeadlineStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, expires: float, deadlines: Deadlines, url: object) -> None:
        self.inner, self.expires, self.deadlines, self.url = inner, expires, deadlines, url

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.inner:
            if time.monotonic() > self.expires:
                raise self.deadlines.exceeded(self.url)
            yield chunk

    def close(self) -> None:
        self.inner.close()


class DeadlineTransport(httpx.BaseTransport):
    """An httpx transport that abandons a request whose body is still arriving at the deadline."""

    def __init__(self, deadlines: Deadlines, inner: httpx.BaseTransport | None = None) -> None:
        self.deadlines = deadlines
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        expires = time.monotonic() + self.deadlines.total
        response = self.inner.handle_request(request)
        if time.monotonic() > expires:
            response.close()
            raise self.deadlines.exceeded(request.url)
        stream = response.stream
        assert isinstance(stream, httpx.SyncByteStream)
        response.stream = _DeadlineStream(stream, expires, self.deadlines, request.url)
        return response

    def close(self) -> None:
        self.inner.close()


class DeadlineAdapter(requests.adapters.HTTPAdapter):
    """A requests adapter with default timeouts that reads bodies itself, up to the deadline."""

    def __init__(self, deadlines: Deadlines) -> None:
        super().__init__()
        self.deadlines = deadlines

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,  # type: ignore[override]
             **kwargs: Any) -> requests.Response:
        expires = time.monotonic() + self.deadlines.total
        if timeout is None or isinstance(timeout, (int, float)) and timeout > self.deadlines.total:
            timeout = self.deadlines.pair
        response = super().send(request, stream=True, timeout=timeout, **kwargs)
        if stream:
            return response
        body = bytearray()
        try:
            while chunk := response.raw.read1(64 * 1024, decode_content=True):  # what has arrived
                body += chunk
                if time.monotonic() > expires:
                    raise self.deadlines.exceeded(request.url)
        finally:
            response.close()
        response._content = bytes(body)
        response._content_consumed = True
        return response


def deadline_session(deadlines: Deadlines, session: requests.Session | None = None) -> requests.Session:
    """`session` (or a new one) with every request bounded by `deadlines`."""
    session = session or requests.Session()
    adapter = DeadlineAdapter(deadlines)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.max_redirects = MAX_REDIRECTS
    return session
