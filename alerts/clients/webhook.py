"""The webhook client: POST signed bytes to a URL that passed the SSRF checks, connecting to
the address those checks resolved (no second DNS lookup to rebind), with explicit timeouts and
no redirects. Retries are the outbox's job (backoff between attempts, ``Retry-After`` honoured),
so one call is one attempt.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from core.http import parse_retry_after
from core.ssrf import SafeUrl


@dataclass(frozen=True)
class WebhookResult:
    ok: bool
    status: int | None
    retryable: bool
    error: str = ""
    retry_after: float | None = None


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """``v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`` (Stripe's scheme: replay-bounded)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _pinned(target: SafeUrl) -> tuple[str, dict[str, str], dict[str, str]]:
    """URL with the resolved address in place of the name, the Host header and TLS SNI."""
    parts = urlsplit(target.url)
    if not target.addresses:
        return target.url, {}, {}
    ip = target.addresses[0]
    host = f"[{ip}]" if ":" in ip else ip
    netloc = f"{host}:{target.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    default = {"https": 443, "http": 80}[target.scheme]
    host_header = target.host if target.port == default else f"{target.host}:{target.port}"
    return url, {"Host": host_header}, extensions


def post(
    *,
    target: SafeUrl,
    body: bytes,
    secret: str,
    timestamp: int,
    idempotency_key: str,
    timeout: float,
) -> WebhookResult:
    url, extra, extensions = _pinned(target)
    headers = {
        **extra,
        "Content-Type": "application/json",
        "User-Agent": "cryptocast-webhooks/1.0",
        "Idempotency-Key": idempotency_key,
        "X-Cryptocast-Signature": signature(secret=secret, timestamp=timestamp, body=body),
        "X-Cryptocast-Timestamp": str(timestamp),
    }
    try:
        with httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)), follow_redirects=False
        ) as client:
            request = client.build_request(
                "POST", url, content=body, headers=headers, extensions=extensions
            )
            response = client.send(request)
    except httpx.TimeoutException:
        return WebhookResult(False, None, True, "timeout")
    except httpx.HTTPError as exc:
        return WebhookResult(False, None, True, f"connection error ({exc.__class__.__name__})")
    status = response.status_code
    if 200 <= status < 300:
        return WebhookResult(True, status, False)
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == 429 or status >= 500:
        return WebhookResult(False, status, True, f"{status} from receiver", retry_after)
    return WebhookResult(False, status, False, f"{status} from receiver (not retried)")
