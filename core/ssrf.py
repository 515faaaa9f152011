"""SSRF checks for user-given URLs (webhooks, anything the server will call on a user's behalf).

``check_url`` accepts only ``https`` (``http`` when allowed), no credentials in the URL, a
port from the allowed set, and a host whose *every* resolved address is public (no loopback,
private, link-local, CGNAT, multicast, reserved or unspecified address, IPv4-mapped forms
included). It returns the addresses so the caller connects to one of them (no second DNS
lookup an attacker could rebind). Call it when the URL is saved and again before each request.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"https": 443, "http": 80}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class UnsafeUrl(ValueError):
    """The URL may not be called by the server (the message says why, for a 400)."""


@dataclass(frozen=True)
class SafeUrl:
    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return False
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _resolve(host: str, port: int) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"host {host!r} does not resolve") from exc
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url(
    url: str,
    *,
    allow_http: bool = False,
    allow_private: bool = False,
    allowed_ports: tuple[int, ...] = (443, 80, 8443),
    resolve: bool = True,
) -> SafeUrl:
    """Validate ``url`` and resolve its host; raise ``UnsafeUrl`` with a readable reason.

    ``allow_private`` exists for tests and closed networks only (a loopback test server).
    """
    if not isinstance(url, str) or len(url) > 2000:
        raise UnsafeUrl("not a URL")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl("malformed URL") from exc
    scheme = parts.scheme.lower()
    allowed = {"https", "http"} if allow_http else {"https"}
    if scheme not in allowed:
        raise UnsafeUrl(f"scheme must be {' or '.join(sorted(allowed))}")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("credentials in the URL are not allowed")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeUrl("missing host")
    port = port or DEFAULT_PORTS[scheme]
    if not allow_private and port not in allowed_ports:
        raise UnsafeUrl(f"port {port} is not allowed")
    if (
        host in {"localhost", "localhost.localdomain"}
        or host.endswith((".localhost", ".local", ".internal"))
    ) and not allow_private:
        raise UnsafeUrl("local host names are not allowed")
    try:
        literal: str | None = str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        literal = None
    if literal is not None:
        addresses: tuple[str, ...] = (literal,)
    elif resolve:
        addresses = _resolve(host, port)
    else:
        addresses = ()
    if not allow_private:
        bad = [a for a in addresses if not is_public_address(a)]
        if bad:
            raise UnsafeUrl(f"host {host!r} resolves to a non-public address")
    return SafeUrl(url=url.strip(), scheme=scheme, host=host, port=port, addresses=addresses)
