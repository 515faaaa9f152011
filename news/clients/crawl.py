"""Fetch one user-given article URL safely (SSRF checks), then extract its text.

Rules: http/https only, no credentials in the URL, default or common web ports only; the host
is resolved once and EVERY address it resolves to must be public (no private, loopback,
link-local, multicast, reserved, unspecified, shared or documentation ranges; IPv4-mapped and
6to4/NAT64 forms unwrapped; decimal, octal and hex IPv4 spellings are resolved the way the
C library would read them, then checked). The connection goes to the checked address with the
original ``Host`` header and TLS SNI (no second DNS lookup, so no DNS rebinding); redirects
are not followed by the HTTP layer but re-checked here hop by hop (at most
``NEWS_CRAWL_MAX_REDIRECTS``). Size, time and content type (HTML only) are capped.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from django.conf import settings

from core.http import ProviderConfig, ProviderError, provider_http, register_provider

from ..contracts import CrawledPage
from ..parsers.page import parse_page

PROVIDER = "news_crawl"
ALLOWED_PORTS = frozenset({80, 443, 8080, 8443})
BLOCKED_HOST_SUFFIXES = (
    ".localhost",
    ".local",
    ".internal",
    ".localdomain",
    ".home.arpa",
    ".lan",
    ".intranet",
    ".corp",
)
BLOCKED_HOSTS = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "ip6-localhost",
        "ip6-loopback",
        "metadata",
        "metadata.google.internal",
    }
)
HTML_TYPES = ("text/html", "application/xhtml+xml")
_NUMERIC_HOST = re.compile(r"(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}")

Resolver = Callable[[str, int], list[str]]


class UnsafeUrl(ValueError):
    """The URL is refused before (or between) any request; ``str()`` says why."""


@dataclass(frozen=True)
class CheckedUrl:
    url: str
    scheme: str
    host: str
    port: int
    address: str  # the public IP we will connect to


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"host {host!r} does not resolve") from exc
    return [str(info[4][0]) for info in infos]


def address_problem(text: str) -> str | None:
    """Why an address must not be contacted, or None when it is a public unicast address."""
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return f"{text!r} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        for inner in (ip.ipv4_mapped, ip.sixtofour, _nat64(ip)):
            if inner is not None:
                problem = address_problem(str(inner))
                if problem:
                    return problem
        if ip.teredo is not None:
            return f"{ip} is a Teredo tunnel address"
    checks = (
        ("loopback", ip.is_loopback),
        ("private", ip.is_private),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("unspecified", ip.is_unspecified),
        ("not globally routable", not ip.is_global),
    )
    for name, hit in checks:
        if hit:
            return f"{ip} is a {name} address"
    return None


def _nat64(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def check_url(url: str, *, resolver: Resolver | None = None) -> CheckedUrl:
    resolve = resolver or system_resolver  # looked up per call (tests swap it)
    if not isinstance(url, str) or len(url) > 2000:
        raise UnsafeUrl("URL must be a string of at most 2000 characters")
    if any(c in url for c in "\r\n\t\x00 \\"):
        raise UnsafeUrl("URL contains whitespace, backslashes or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"malformed URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise UnsafeUrl(f"scheme {scheme or 'none'!r} is not allowed (http or https only)")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeUrl("credentials in the URL are not allowed")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeUrl("URL has no host")
    port = port or (443 if scheme == "https" else 80)
    if port not in ALLOWED_PORTS:
        raise UnsafeUrl(f"port {port} is not allowed")
    if host in BLOCKED_HOSTS or host.endswith(BLOCKED_HOST_SUFFIXES):
        raise UnsafeUrl(f"host {host!r} is a local name")
    try:
        literal: str | None = str(ipaddress.ip_address(host))
    except ValueError:
        literal = None
    if literal is None and _NUMERIC_HOST.fullmatch(host):
        # 2130706433, 0177.0.0.1, 0x7f.1: read as the C library would, then checked.
        try:
            literal = socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            literal = None
    addresses = [literal] if literal else resolve(host, port)
    if not addresses:
        raise UnsafeUrl(f"host {host!r} does not resolve")
    for address in addresses:
        problem = address_problem(address)
        if problem:
            raise UnsafeUrl(f"host {host!r} resolves to a forbidden address: {problem}")
    return CheckedUrl(url=url, scheme=scheme, host=host, port=port, address=addresses[0])


def _config() -> ProviderConfig:
    seconds = float(settings.NEWS_CRAWL_TIMEOUT_SECONDS)
    return ProviderConfig(
        name=PROVIDER,
        base_url="",
        timeout=seconds,
        connect_timeout=min(seconds, 3.0),
        attempts=1,  # a user waits: no retries
        total_timeout=seconds,
        budget=int(settings.NEWS_CRAWL_BUDGET_PER_MINUTE),
        budget_window=60,
        headers={"User-Agent": settings.NEWS_USER_AGENT},
    )


register_provider(PROVIDER, _config)


@dataclass(frozen=True)
class _Redirect:
    location: str


def _pinned_url(checked: CheckedUrl) -> tuple[str, dict[str, str], dict[str, str]]:
    parts = urlsplit(checked.url)
    ip = ipaddress.ip_address(checked.address)
    host_for_url = f"[{ip}]" if ip.version == 6 else str(ip)
    default = 443 if checked.scheme == "https" else 80
    netloc = host_for_url if checked.port == default else f"{host_for_url}:{checked.port}"
    pinned = urlunsplit((checked.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = checked.host if checked.port == default else f"{checked.host}:{checked.port}"
    extensions = {"sni_hostname": checked.host} if checked.scheme == "https" else {}
    return pinned, {"Host": host_header}, extensions


def _parse_at(body: bytes, *, url: str) -> CrawledPage | _Redirect:
    return parse_page(body, url=url)


def _redirect(response: httpx.Response) -> CrawledPage | _Redirect:
    return _Redirect(response.headers.get("Location", ""))


def fetch_page(url: str, *, resolver: Resolver | None = None) -> CrawledPage:
    """Follow at most N checked redirects, then parse the HTML. Raises UnsafeUrl/ProviderError."""
    http = provider_http(PROVIDER)
    current = url
    for _hop in range(int(settings.NEWS_CRAWL_MAX_REDIRECTS) + 1):
        checked = check_url(current, resolver=resolver)
        pinned, headers, extensions = _pinned_url(checked)
        result: CrawledPage | _Redirect = http.get_bytes(
            pinned,
            parse=functools.partial(_parse_at, url=checked.url),
            max_bytes=int(settings.NEWS_CRAWL_MAX_BYTES),
            accept="text/html,application/xhtml+xml",
            headers=headers,
            extensions=extensions,
            on_redirect=_redirect,
            content_types=HTML_TYPES,
        )
        if isinstance(result, _Redirect):
            if not result.location:
                raise ProviderError(PROVIDER, "redirect without a Location", counts=False)
            current = urljoin(checked.url, result.location)
            continue
        return result
    raise UnsafeUrl(f"more than {settings.NEWS_CRAWL_MAX_REDIRECTS} redirects")
