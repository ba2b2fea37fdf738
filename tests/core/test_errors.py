"""network_reason: the cause of a network failure in a few words, whatever the client library."""

from __future__ import annotations

import socket

import httpx
import pytest
import requests

from radpulse.errors import network_reason


def chained(*excs: BaseException) -> BaseException:
    """The last exception, raised `from` each one before it (innermost first)."""
    caught: BaseException | None = None
    for exc in excs:
        try:
            raise exc from caught
        except BaseException as e:  # noqa: BLE001
            caught = e
    assert caught is not None
    return caught


@pytest.mark.parametrize(("exc", "reason"), [
    (chained(socket.gaierror(-2, "Name or service not known"),
             requests.exceptions.ConnectionError("HTTPSConnectionPool(host='x', port=443): Max retries exceeded"),
             RuntimeError("Could not complete request: HTTPSConnectionPool(...)")),
     "the host name does not resolve"),
    (chained(ConnectionRefusedError(111, "Connection refused"), httpx.ConnectError("All connection attempts failed")),
     "the connection was refused"),
    (chained(httpx.ReadTimeout("The read operation timed out"), RuntimeError("wrapped")), "the connection timed out"),
    (chained(httpx.RemoteProtocolError("Server disconnected without sending a response."), RuntimeError("wrapped")),
     "Server disconnected without sending a response."),
    (RuntimeError("x" * 500), "x" * 197 + "..."),
])
def test_the_root_cause_is_named(exc, reason):
    assert network_reason(exc) == reason


def test_an_unrelated_exception_in_the_context_is_not_blamed():
    try:
        try:
            raise KeyError("route lookup")  # raised and handled inside a client library
        except KeyError:
            raise httpx.ConnectError("[Errno 111] Connection refused") from None
    except httpx.ConnectError as exc:
        assert network_reason(exc) == "[Errno 111] Connection refused"


def test_a_dns_failure_re_raised_without_its_cause_is_still_named():
    # httpcore re-raises socket.gaierror as ConnectError with the context suppressed
    exc = chained(httpx.ConnectError("[Errno -2] Name or service not known"), RuntimeError(""))
    assert network_reason(exc) == "the host name does not resolve"
