"""The one HTTP layer: deadlines against a slow-drip server, the SSRF guard, redirect loops, retries."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Response

from radpulse.records import SourceSpec
from radpulse.collectors.http import (
    STATUS_EXCEPTIONS, Deadlines, RateLimiter, RetryPolicy, deadline_session, error_for_status, new_client, send,
)
from radpulse.collectors.netguard import check_url, is_public_address
from radpulse.collectors.runner import collect_sources
from radpulse.db.models import Source
from radpulse.errors import (
    AuthError, DeadlineExceeded, NotFound, RateLimited, SourceUnavailable, UnsafeURL,
)
from tests.conftest import make_settings

RSS = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>J</title><item><title>P</title>'
       b"<link>https://doi.org/10.1148/radiol.1</link></item></channel></rss>")


class DripServer:
    """A loopback HTTP server that sends its headers, then one byte of body every `every` seconds."""

    def __init__(self, every: float, total_bytes: int = 10_000) -> None:
        self.every, self.total = every, total_bytes
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/feed.rss"

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                         b"Content-Length: %d\r\n\r\n" % self.total)
            for _ in range(self.total):
                if self.stop.wait(self.every):  # time.sleep is patched in tests; Event.wait waits
                    break
                conn.sendall(b" ")
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def drip() -> Iterator[DripServer]:
    server = DripServer(every=0.2)
    yield server
    server.close()


def test_httpx_client_abandons_a_dripping_body_at_the_deadline(drip: DripServer) -> None:
    # each byte arrives well within the read timeout, so only the total deadline can stop it
    deadlines = Deadlines(connect=2.0, read=5.0, total=1.0)
    client = new_client(deadlines=deadlines)
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded) as info:
        send(lambda: client.get(drip.url), what="feed:drip")
    elapsed = time.monotonic() - started
    client.close()
    assert elapsed < deadlines.total + deadlines.read  # not the 2000 s the whole body would take
    assert "feed:drip" in str(info.value) and "1 s deadline" in str(info.value)


def test_requests_session_abandons_a_dripping_body_at_the_deadline(drip: DripServer) -> None:
    # tweepy, praw and Mastodon.py read through a requests session built by deadline_session
    session = deadline_session(Deadlines(connect=2.0, read=5.0, total=1.0))
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        session.get(drip.url)
    assert time.monotonic() - started < 6.0
    session.close()


def test_requests_session_still_reads_ordinary_bodies(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ok").respond_with_data(b"x" * 200_000)
    session = deadline_session(Deadlines(total=10.0))
    response = session.get(httpserver.url_for("/ok"))
    assert response.status_code == 200 and response.content == b"x" * 200_000


def _feed_source(db, url: str) -> SourceSpec:  # type: ignore[no-untyped-def]
    with db.session() as s:
        row = Source(name="feed:t", platform="feeds", kind="feed", value=url, settings={}, enabled=True,
                     created_at=__import__("datetime").datetime.now(__import__("datetime").UTC))
        s.add(row)
        s.flush()
        return SourceSpec("feed:t", "feeds", "feed", url, {}, row.id)


def test_a_dripping_feed_fails_within_the_deadline_and_the_next_source_runs(db, drip, httpserver) -> None:
    httpserver.expect_request("/good.rss").respond_with_data(RSS, content_type="application/rss+xml")
    settings = make_settings({"network": {"request_deadline_seconds": 1.0, "allow_private_hosts": True},
                              "x": {"enabled": False}})
    slow = _feed_source(db, drip.url)
    good = SourceSpec("feed:good", "feeds", "feed", httpserver.url_for("/good.rss"), {}, None)
    started = time.monotonic()
    first, second = collect_sources(db, settings, [slow, good])
    assert time.monotonic() - started < 10.0
    assert first.status == "failed" and "deadline" in first.error
    assert (second.status, second.fetched) == ("success", 1)


@pytest.mark.parametrize("target", [
    "http://127.0.0.1:{port}/internal-admin/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:{port}/x",
    "http://10.0.0.8/",
])
def test_feed_redirects_to_private_addresses_are_refused(db, httpserver: HTTPServer, target: str) -> None:
    location = target.format(port=httpserver.port)
    httpserver.expect_request("/feed.rss").respond_with_response(Response(status=302, headers={"Location": location}))
    httpserver.expect_request("/internal-admin/").respond_with_data("secret admin page")
    settings = make_settings()  # allow_private_hosts is false by default
    assert settings.network.allow_private_hosts is False
    (summary,) = collect_sources(db, settings, [_feed_source(db, httpserver.url_for("/feed.rss"))])
    assert summary.status == "failed"
    assert "refused to fetch" in summary.error and "private, loopback, link-local or metadata" in summary.error
    assert "secret admin page" not in summary.error
    assert [r.path for r, _ in httpserver.log] == ["/feed.rss"]  # the target was never requested


def test_allow_private_hosts_follows_a_loopback_redirect(db, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old.rss").respond_with_response(
        Response(status=301, headers={"Location": httpserver.url_for("/new.rss")}))
    httpserver.expect_request("/new.rss").respond_with_data(RSS, content_type="application/rss+xml")
    settings = make_settings({"network": {"allow_private_hosts": True}})
    (summary,) = collect_sources(db, settings, [_feed_source(db, httpserver.url_for("/old.rss"))])
    assert (summary.status, summary.new) == ("success", 1)


def test_a_redirect_loop_is_a_clear_failure(db, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/loop.rss").respond_with_response(
        Response(status=302, headers={"Location": httpserver.url_for("/loop.rss")}))
    settings = make_settings({"network": {"allow_private_hosts": True}})
    (summary,) = collect_sources(db, settings, [_feed_source(db, httpserver.url_for("/loop.rss"))])
    assert summary.status == "failed"
    assert summary.error.startswith("feed:t: the server redirected more than 10 times (a redirect loop).")
    assert "Traceback" not in summary.error
    assert len(httpserver.log) == 11  # the first request and ten redirects, never retried


def test_check_url_refuses_other_schemes_and_private_addresses() -> None:
    for url in ("file:///etc/passwd", "gopher://x/", "javascript:alert(1)", "http:///nohost"):
        with pytest.raises(UnsafeURL):
            check_url(url)
    for url in ("http://localhost/", "http://169.254.169.254/", "http://[fe80::1]/", "http://192.168.1.1/",
                "http://[::ffff:127.0.0.1]/", "http://100.100.100.200/", "http://0.0.0.0/"):
        with pytest.raises(UnsafeURL):
            check_url(url)
        check_url(url, allow_private=True)  # the setting allows addresses, never other schemes
    check_url("https://93.184.215.14/feed")
    assert is_public_address("8.8.8.8") and not is_public_address("172.16.0.1")


def test_status_table_maps_each_status_to_its_class() -> None:
    assert STATUS_EXCEPTIONS[401] is AuthError and STATUS_EXCEPTIONS[404] is NotFound
    assert STATUS_EXCEPTIONS[429] is RateLimited
    assert isinstance(error_for_status(502, "s"), SourceUnavailable)
    error = error_for_status(410, "feed:x", "Gone")
    assert isinstance(error, NotFound) and str(error).startswith("feed:x: the server answered HTTP 410 (Gone).")


def test_send_retries_5xx_with_jittered_backoff_then_gives_up(sleeps) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503)

    client = new_client(transport=httpx.MockTransport(handler))
    policy = RetryPolicy(attempts=3, base=2.0)
    with pytest.raises(SourceUnavailable, match="HTTP 503 after 3 attempts"):
        send(lambda: client.get("https://example.org/x"), what="w", retry=policy)
    assert len(calls) == 3 and len(sleeps) == 2
    assert 1.0 <= sleeps[0] <= 2.0 and 2.0 <= sleeps[1] <= 4.0  # half fixed, half random, doubling


def test_send_waits_out_a_429_and_refuses_long_waits(sleeps) -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, text="ok"),
                    httpx.Response(429, headers={"Retry-After": "3600"})])
    client = new_client(transport=httpx.MockTransport(lambda request: next(answers)))
    assert send(lambda: client.get("https://example.org/x"), what="w").text == "ok"
    assert sleeps == [7.0]
    with pytest.raises(RateLimited) as info:
        send(lambda: client.get("https://example.org/x"), what="w")
    assert info.value.reset_at is not None and info.value.reset_at > time.time() + 3000


def test_retry_policy_call_retries_only_what_it_is_told(sleeps) -> None:
    attempts = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise requests.ConnectionError("reset")
        return "done"

    assert RetryPolicy(attempts=4).call(flaky) == "done" and len(sleeps) == 2
    with pytest.raises(ValueError):
        RetryPolicy(attempts=4).call(lambda: (_ for _ in ()).throw(ValueError("no")))
    assert len(sleeps) == 2  # not retried


def test_rate_limiter_paces_and_waits_for_a_spent_window(monkeypatch, sleeps) -> None:
    clock = [100.0]
    monkeypatch.setattr(RateLimiter, "clock", staticmethod(lambda: clock[0]))
    monkeypatch.setattr(time, "sleep", lambda s: (sleeps.append(s), clock.__setitem__(0, clock[0] + s)))
    limiter = RateLimiter(rate=4)
    limiter.wait(), limiter.wait()
    assert sleeps == [0.25]
    limiter.update(remaining=0, reset_in=30)
    limiter.wait()
    assert sleeps[-1] == pytest.approx(31.0)  # until the reset, plus a second
    limiter.wait()
    assert sleeps[-1] == pytest.approx(0.25)  # the window is fresh: back to the steady pace
