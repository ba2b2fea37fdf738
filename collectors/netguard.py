"""The SSRF guard: URLs that did not come from the operator's config must lead to public hosts.

A feed's redirect, a link found in a post, a host named inside a stored payload: all are written
by strangers. Before radpulse requests one, `check_url` resolves its host and refuses it when any
address is loopback, private (RFC 1918, unique-local), link-local (169.254/16, fe80::/10, which
holds the cloud metadata endpoints such as 169.254.169.254), shared (100.64/10), multicast,
reserved or unspecified, and it refuses every scheme but http and https. `allow_private_hosts`
([network] in the config) turns the address check off for tests on loopback and intranet feeds.

The check resolves the name once before the request; a DNS answer that changes between the check
and the connection (rebinding) is not caught here.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from radpulse.errors import UnsafeURL

#: addresses no URL from the internet may lead to, beyond what `ipaddress` flags itself
_METADATA = (ipaddress.ip_network("100.64.0.0/10"), ipaddress.ip_network("fd00:ec2::/32"))


def is_public_address(address: str) -> bool:
    """Whether an IP address is a public, routable unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified or not ip.is_global):
        return False
    return not any(ip in net for net in _METADATA)


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an IP literal is its own address)."""
    try:
        return [ipaddress.ip_address(host.strip("[]")).compressed]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def check_url(url: str, *, allow_private: bool = False, what: str = "") -> None:
    """Raise UnsafeURL unless `url` is http(s) and its host resolves only to public addresses."""
    label = f"{what}: " if what else ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL(f"{label}refused to fetch {url[:200]!r}: only http and https URLs with a host are fetched.")
    if allow_private:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve(parts.hostname, port)
    except (socket.gaierror, UnicodeError):
        return  # the request itself fails with "does not resolve"; nothing private can be reached
    private = [a for a in addresses if not is_public_address(a)]
    if private:
        raise UnsafeURL(
            f"{label}refused to fetch {url[:200]!r}: {parts.hostname} resolves to a private, loopback, "
            f"link-local or metadata address ({', '.join(private[:3])}).",
            hint="URLs that did not come from the config may only lead to public hosts; set [network] "
            "allow_private_hosts = true only for feeds on an intranet.",
        )


def redirect_hook(*, allow_private: bool, what: str = "redirect") -> Callable[[httpx.Response], None]:
    """An httpx response hook that checks every redirect target before httpx follows it."""

    def check(response: httpx.Response) -> None:
        if response.has_redirect_location:
            target = response.request.url.join(response.headers["Location"])
            check_url(str(target), allow_private=allow_private, what=f"{what} from {response.request.url}")

    return check
