"""One resilient outbound HTTP layer for every vendor client.

Per provider (``ProviderHttp``): a shared ``httpx.Client`` with explicit timeouts (GET through
``get_json``/``get_bytes``, JSON POST through ``post_json``), bounded retries with exponential
backoff + jitter (stamina; a POST only where repeating it cannot repeat an action) that honour
``Retry-After`` but never sleep
longer than a cap inside a request (a longer wait fails fast with ``retry_after`` recorded), a
circuit breaker (pybreaker; state in Redis when ``REDIS_URL`` is set so every process sees the
same state) and an outbound request budget (pyrate-limiter; Redis bucket shared across processes,
else a SQLite file bucket, else in memory). Every failure surfaces as one exception type,
``ProviderError``; per-provider figures go to the cache (shared) and to Prometheus.

Core knows no vendor: apps register a config factory (``register_provider``) that reads their
settings lazily, the first time the provider is used.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
import pybreaker
import redis
import stamina
from django.conf import settings
from django.core.cache import cache
from prometheus_client import Counter, Gauge, Histogram
from pyrate_limiter import Duration, InMemoryBucket, Limiter, Rate, SQLiteBucket
from pyrate_limiter.buckets.redis_bucket import RedisBucket

from .parsers import JSONRejected, loads_bounded

logger = logging.getLogger("cryptocast.http")
T = TypeVar("T")

# --- Prometheus -------------------------------------------------------------------------
PROVIDER_REQUESTS = Counter(
    "cryptocast_provider_requests_total",
    "Outbound provider requests by outcome",
    ["provider", "outcome"],
)
PROVIDER_LATENCY = Histogram(
    "cryptocast_provider_request_seconds",
    "Outbound provider request latency",
    ["provider"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
)
PROVIDER_BREAKER_STATE = Gauge(
    "cryptocast_provider_breaker_state",
    "Circuit breaker state (0 closed, 1 half-open, 2 open)",
    ["provider"],
)
PROVIDER_BUDGET_REMAINING = Gauge(
    "cryptocast_provider_budget_remaining",
    "Outbound requests left in the current budget window",
    ["provider"],
)
PROVIDER_LAST_SUCCESS = Gauge(
    "cryptocast_provider_last_success_timestamp_seconds",
    "Unix time of the last successful provider response",
    ["provider"],
)
_BREAKER_CODES = {"closed": 0, "half-open": 1, "open": 2}


class ProviderError(Exception):
    """Anything that went wrong talking to a provider, in one shape.

    ``reason`` is short and human (``"429 rate limited"``), ``retry_after`` is seconds when the
    provider (or our own budget/breaker) told us when to come back. ``counts`` says whether it
    is evidence the provider is unhealthy (feeds the breaker); ``retryable`` whether another
    attempt soon could succeed.
    """

    def __init__(
        self,
        provider: str,
        reason: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
        counts: bool = True,
        retryable: bool = False,
    ) -> None:
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason
        self.retry_after = retry_after
        self.status = status
        self.counts = counts
        self.retryable = retryable


class InvalidPayload(ValueError):
    """Raised by parsers: the body is not what the provider's schema promises."""


@dataclass(frozen=True)
class ProviderConfig:
    name: str
    base_url: str
    timeout: float = 10.0
    connect_timeout: float = 3.0
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    attempts: int = 3
    backoff_initial: float = 0.5
    backoff_max: float = 4.0
    backoff_jitter: float = 0.5
    retry_after_cap: float = 2.0  # longest in-process sleep honouring Retry-After
    total_timeout: float = 20.0  # all attempts of one call together
    budget: int = 30  # requests ...
    budget_window: int = 60  # ... per this many seconds, across processes
    breaker_fail_max: int = 5
    breaker_reset_timeout: float = 60.0


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max((when - now).total_seconds(), 0.0)


# --- shared Redis connection (lazy) -------------------------------------------------------
_redis_lock = threading.Lock()
_redis_client: Any = None


_redis_down_until = 0.0
# After a failed Redis call, provider set-up skips Redis this long (a stalled Redis costs one
# socket timeout, not one per provider and storage).
_REDIS_DOWN_SECONDS = 5.0


def _redis_failed() -> None:
    global _redis_down_until
    _redis_down_until = time.monotonic() + _REDIS_DOWN_SECONDS


def redis_client() -> Any | None:
    """A raw redis-py client for breaker state and budgets, or None in the embedded mode
    (and for a few seconds after Redis failed)."""
    global _redis_client
    url = getattr(settings, "REDIS_URL", "")
    if not url or time.monotonic() < _redis_down_until:
        return None
    with _redis_lock:
        if _redis_client is None:
            timeout = float(getattr(settings, "REDIS_SOCKET_TIMEOUT", 0.25))
            _redis_client = redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout
            )
        return _redis_client


# --- stats in the shared cache ------------------------------------------------------------
_STAT_COUNTERS = ("calls", "ok", "failures", "rate_limited", "budget_exhausted", "circuit_open")
_STAT_VALUES = ("last_success", "last_failure", "last_error", "last_retry_after")
_STATS_TTL = 7 * 24 * 3600


def _stat_key(provider: str, name: str) -> str:
    return f"provider-stats:{provider}:{name}"


def _stat_incr(provider: str, name: str) -> None:
    key = _stat_key(provider, name)
    try:
        try:
            cache.incr(key)
        except ValueError:  # missing key
            if not cache.add(key, 1, timeout=_STATS_TTL):
                cache.incr(key)
    except Exception:  # a dead cache must never break an outbound call
        logger.debug("provider stats: cache unavailable")


def _stat_set(provider: str, name: str, value: Any) -> None:
    try:
        cache.set(_stat_key(provider, name), value, timeout=_STATS_TTL)
    except Exception:
        logger.debug("provider stats: cache unavailable")


# --- the per-provider client ----------------------------------------------------------------
class ProviderHttp:
    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.name = config.name
        self.client = httpx.Client(
            base_url=config.base_url,
            timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
            headers={
                "Accept": "application/json",
                "User-Agent": "cryptocast/1.0",
                **config.headers,
            },
            params=dict(config.params),
            follow_redirects=False,
        )
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=config.breaker_fail_max,
            reset_timeout=config.breaker_reset_timeout,
            exclude=[lambda exc: isinstance(exc, ProviderError) and not exc.counts],
            state_storage=self._breaker_storage(),
            name=config.name,
            throw_new_error_on_trip=False,  # the tripping call keeps its own reason
        )
        self.rate = Rate(config.budget, Duration.SECOND * config.budget_window)
        self.bucket = self._budget_bucket()
        self.limiter = Limiter(self.bucket, raise_when_fail=False)

    # storage choices ---------------------------------------------------------------------
    def _breaker_storage(self) -> pybreaker.CircuitBreakerStorage:
        client = redis_client()
        if client is not None:
            try:
                return pybreaker.CircuitRedisStorage(
                    pybreaker.STATE_CLOSED, client, namespace=f"cc:breaker:{self.name}"
                )
            except Exception:
                _redis_failed()
                logger.warning("breaker %s: Redis unavailable, state kept in-process", self.name)
        return pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)

    def _budget_bucket(self) -> Any:
        client = redis_client()
        if client is not None:
            try:
                return RedisBucket.init([self.rate], client, f"cc:budget:{self.name}")
            except Exception:
                _redis_failed()
                logger.warning("budget %s: Redis unavailable, budget kept in-process", self.name)
        path = getattr(settings, "PROVIDER_BUDGET_SQLITE_PATH", "")
        if path:
            return SQLiteBucket.init_from_file(
                [self.rate], table=f"budget_{self.name}", db_path=str(path)
            )
        return InMemoryBucket([self.rate])

    # budget ------------------------------------------------------------------------------
    def _now_ms(self) -> int:
        return int(time.time() * 1000)

    def budget_left(self) -> int | None:
        try:
            self.bucket.leak(self._now_ms())
            left = max(self.rate.limit - int(self.bucket.count()), 0)
        except Exception:
            return None
        PROVIDER_BUDGET_REMAINING.labels(self.name).set(left)
        return left

    def _budget_wait(self) -> float:
        try:
            item = self.bucket.peek(self.rate.limit - 1)
        except Exception:
            item = None
        if item is None:
            return float(self.config.budget_window)
        return max((item.timestamp + self.rate.interval - self._now_ms()) / 1000, 0.0)

    def _acquire_budget(self) -> None:
        try:
            ok = self.limiter.try_acquire(self.name)
        except Exception:  # budget store down: fail open, the breaker still protects us
            logger.warning("budget %s: store unavailable, request allowed", self.name)
            return
        if not ok:
            _stat_incr(self.name, "budget_exhausted")
            PROVIDER_REQUESTS.labels(self.name, "budget_exhausted").inc()
            raise ProviderError(
                self.name,
                "request budget exhausted",
                retry_after=round(self._budget_wait(), 3),
                counts=False,
            )
        PROVIDER_BUDGET_REMAINING.labels(self.name).set(
            max(self.rate.limit - int(self.bucket.count()), 0)
        )

    # breaker -----------------------------------------------------------------------------
    def breaker_state(self) -> str:
        try:
            state = str(self.breaker.current_state)
        except Exception:
            state = "unknown"
        PROVIDER_BREAKER_STATE.labels(self.name).set(_BREAKER_CODES.get(state, -1))
        return state

    def breaker_retry_after(self) -> float:
        opened_at = self.breaker._state_storage.opened_at
        if opened_at is None:
            return float(self.config.breaker_reset_timeout)
        remaining = (
            opened_at.timestamp()
            + self.config.breaker_reset_timeout
            - datetime.now(UTC).timestamp()
        )
        return max(remaining, 0.0)

    # requests ----------------------------------------------------------------------------
    def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        parse: Callable[[Any], T] | None = None,
        _raw: Mapping[str, Any] | None = None,
    ) -> T:
        """GET ``path`` and return ``parse(json)``; every failure is a ``ProviderError``.

        The parser runs inside the breaker: garbage counts as a provider failure.
        """
        parse = parse or (lambda data: data)
        if self.breaker_state() == "open" and self.breaker_retry_after() > 0:
            raise self._circuit_open()  # before spending budget on a call that cannot happen
        self._acquire_budget()
        try:
            result = self.breaker.call(self._with_retries, path, params, parse, _raw)
        except pybreaker.CircuitBreakerError as exc:
            raise self._circuit_open() from exc
        except ProviderError as exc:
            if exc.counts:
                _stat_incr(self.name, "failures")
                _stat_set(self.name, "last_failure", datetime.now(UTC).isoformat())
                _stat_set(self.name, "last_error", exc.reason)
                if exc.retry_after is not None:
                    _stat_set(self.name, "last_retry_after", exc.retry_after)
            self.breaker_state()
            raise
        now = datetime.now(UTC)
        _stat_incr(self.name, "ok")
        _stat_set(self.name, "last_success", now.isoformat())
        PROVIDER_LAST_SUCCESS.labels(self.name).set(now.timestamp())
        self.breaker_state()
        return result

    def get_bytes(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        parse: Callable[[bytes], T] | None = None,
        max_bytes: int = 5_000_000,
        accept: str = "*/*",
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
        on_redirect: Callable[[httpx.Response], T] | None = None,
        content_types: tuple[str, ...] = (),
    ) -> T:
        """GET ``path`` (relative or absolute) and return ``parse(body_bytes)``.

        Same timeouts, retries, breaker, budget and stats as ``get_json``; the body is read as
        a stream and a response larger than ``max_bytes`` is a provider failure (never buffered
        whole). Feeds (RSS/Atom) and pages use this; the parser decides what the bytes mean.
        Redirects are never followed here: ``on_redirect`` gets a 3xx response (the caller
        checks the next hop, e.g. against SSRF) — without it a 3xx is a client error.
        ``extensions`` go to httpcore (``sni_hostname`` when connecting to a pinned address).
        """
        parse_bytes = parse or (lambda body: body)  # type: ignore[assignment,return-value]
        opts = {
            "max_bytes": max_bytes,
            "accept": accept,
            "headers": dict(headers or {}),
            "extensions": dict(extensions or {}),
            "on_redirect": on_redirect,
            "content_types": content_types,
        }
        return self.get_json(path, params=params, parse=parse_bytes, _raw=opts)  # type: ignore[arg-type,return-value]

    def post_json(
        self,
        path: str,
        *,
        json_body: Any,
        parse: Callable[[Any], T] | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int = 5_000_000,
        idempotent: bool = False,
    ) -> T:
        """POST ``json_body`` as JSON to ``path`` and return ``parse(decoded JSON response)``.

        Same timeouts, breaker, budget, size cap (streamed) and stats as ``get_bytes``. Retries
        are limited to what cannot repeat an action: a request that never left (connect error,
        connect or pool timeout) or that the server refused with 429 (honouring
        ``Retry-After`` up to the cap). A read timeout, a dropped connection or a 5xx may come
        after the server acted, so they are retried only when the caller says the call is
        ``idempotent``. Redirects are never followed (a 3xx is a client error). ``headers``
        carry per-call credentials (never stored in the config, never logged).
        """
        parse_json = parse or (lambda data: data)

        def parse_body(body: bytes) -> T:
            return parse_json(decode_json(body))  # type: ignore[return-value]

        opts = {
            "method": "POST",
            "json": json_body,
            "idempotent": idempotent,
            "max_bytes": max_bytes,
            "accept": "application/json",
            "headers": dict(headers or {}),
            "extensions": {},
            "on_redirect": None,
            "content_types": (),
        }
        return self.get_json(path, parse=parse_body, _raw=opts)  # type: ignore[arg-type,return-value]

    def _circuit_open(self) -> ProviderError:
        _stat_incr(self.name, "circuit_open")
        PROVIDER_REQUESTS.labels(self.name, "circuit_open").inc()
        self.breaker_state()
        return ProviderError(
            self.name,
            "circuit open",
            retry_after=round(self.breaker_retry_after(), 3),
            counts=False,
        )

    def _retry_hook(self, exc: Exception) -> bool | float:
        if not isinstance(exc, ProviderError) or not exc.retryable:
            return False
        if exc.retry_after is not None:
            # Never sleep long inside a request: fail fast and let the caller fail over.
            if exc.retry_after > self.config.retry_after_cap:
                return False
            return exc.retry_after
        return True

    def _with_retries(
        self,
        path: str,
        params: Mapping[str, Any] | None,
        parse: Callable[[Any], T],
        raw: Mapping[str, Any] | None = None,
    ) -> T:
        first = True
        for attempt in stamina.retry_context(
            on=self._retry_hook,
            attempts=self.config.attempts,
            timeout=self.config.total_timeout,
            wait_initial=self.config.backoff_initial,
            wait_max=self.config.backoff_max,
            wait_jitter=self.config.backoff_jitter,
        ):
            with attempt:
                if not first:
                    self._acquire_budget()
                first = False
                return self._once(path, params, parse, raw)
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(
        self,
        path: str,
        params: Mapping[str, Any] | None,
        parse: Callable[[Any], T],
        raw: Mapping[str, Any] | None = None,
    ) -> T:
        _stat_incr(self.name, "calls")
        started = time.perf_counter()
        body: bytes | None = None
        # GET is safe to repeat; a POST only when the caller says so, or when it never left.
        idempotent = raw is None or bool(raw.get("idempotent", True))
        try:
            if raw is None:
                response = self._get_within_deadline(path, params)
            else:
                response, body = self._get_capped(path, params, raw)
        except httpx.TimeoutException as exc:
            PROVIDER_REQUESTS.labels(self.name, "timeout").inc()
            not_sent = isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout))
            raise ProviderError(self.name, "timeout", retryable=idempotent or not_sent) from exc
        except httpx.TransportError as exc:
            PROVIDER_REQUESTS.labels(self.name, "connection_error").inc()
            not_sent = isinstance(exc, httpx.ConnectError)
            raise ProviderError(
                self.name,
                f"connection error ({exc.__class__.__name__})",
                retryable=idempotent or not_sent,
            ) from exc
        finally:
            PROVIDER_LATENCY.labels(self.name).observe(time.perf_counter() - started)
        status = response.status_code
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            _stat_incr(self.name, "rate_limited")
            PROVIDER_REQUESTS.labels(self.name, "rate_limited").inc()
            raise ProviderError(
                self.name, "429 rate limited", status=429, retry_after=retry_after, retryable=True
            )
        if status >= 500:
            PROVIDER_REQUESTS.labels(self.name, "server_error").inc()
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise ProviderError(
                self.name,
                f"{status} server error",
                status=status,
                retry_after=retry_after,
                retryable=idempotent,
            )
        if 300 <= status < 400 and raw is not None and raw.get("on_redirect") is not None:
            return raw["on_redirect"](response)  # type: ignore[no-any-return]
        if status in (401, 403):
            PROVIDER_REQUESTS.labels(self.name, "client_error").inc()
            raise ProviderError(self.name, f"{status} unauthorized", status=status)
        if status >= 300:
            PROVIDER_REQUESTS.labels(self.name, "client_error").inc()
            raise ProviderError(self.name, f"{status} client error", status=status, counts=False)
        try:
            data = decode_json(response.content) if body is None else body
            result = parse(data)
        except ProviderError:
            raise
        except (InvalidPayload, ValueError, TypeError, KeyError) as exc:
            PROVIDER_REQUESTS.labels(self.name, "invalid_payload").inc()
            raise ProviderError(
                self.name, f"invalid payload ({_short(exc)})", status=status
            ) from exc
        PROVIDER_REQUESTS.labels(self.name, "ok").inc()
        return result

    def _get_within_deadline(self, path: str, params: Mapping[str, Any] | None) -> httpx.Response:
        """GET with a deadline on the whole response: httpx's read timeout restarts with every
        chunk, so a slow-loris body (a byte now and then) would otherwise hold the call for as
        long as the server likes."""
        deadline = time.monotonic() + self.config.timeout
        with self.client.stream("GET", path, params=params) as response:
            chunks: list[bytes] = []
            for chunk in response.iter_raw():
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("response not complete within the timeout")
            return httpx.Response(
                status_code=response.status_code,
                headers=response.headers,
                content=b"".join(chunks),
                request=response.request,
            )

    def _get_capped(
        self, path: str, params: Mapping[str, Any] | None, raw: Mapping[str, Any]
    ) -> tuple[httpx.Response, bytes]:
        cap = int(raw["max_bytes"])
        headers = {"Accept": str(raw["accept"]), **raw.get("headers", {})}
        with self.client.stream(
            str(raw.get("method", "GET")),
            path,
            params=params,
            headers=headers,
            json=raw.get("json"),
            extensions=raw.get("extensions") or None,
        ) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > cap:
                PROVIDER_REQUESTS.labels(self.name, "too_large").inc()
                raise ProviderError(self.name, f"response larger than {cap} bytes", counts=False)
            chunks: list[bytes] = []
            size = 0
            wanted = raw.get("content_types") or ()
            ctype = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if wanted and response.status_code < 300 and ctype not in wanted:
                PROVIDER_REQUESTS.labels(self.name, "client_error").inc()
                raise ProviderError(
                    self.name, f"unsupported content type {ctype or 'none'!r}", counts=False
                )
            if response.status_code < 300:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > cap:
                        PROVIDER_REQUESTS.labels(self.name, "too_large").inc()
                        raise ProviderError(
                            self.name, f"response larger than {cap} bytes", counts=False
                        )
                    chunks.append(chunk)
            return response, b"".join(chunks)

    # ops ---------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        keys = [_stat_key(self.name, k) for k in (*_STAT_COUNTERS, *_STAT_VALUES)]
        try:
            raw = cache.get_many(keys)
            cache_ok = True
        except Exception:
            raw, cache_ok = {}, False
        body: dict[str, Any] = {"provider": self.name}
        for name in _STAT_COUNTERS:
            body[name] = int(raw.get(_stat_key(self.name, name)) or 0)
        for name in _STAT_VALUES:
            body[name] = raw.get(_stat_key(self.name, name))
        body["breaker_state"] = self.breaker_state()
        body["budget_limit"] = self.rate.limit
        body["budget_window_seconds"] = self.config.budget_window
        body["budget_left"] = self.budget_left()
        body["stats_available"] = cache_ok
        return body

    def reset(self, *, stats: bool = True) -> None:
        """Close the breaker, refill the budget and (optionally) zero the shared figures."""
        try:
            self.breaker.close()
        except Exception:
            logger.warning("breaker %s: reset failed", self.name)
        try:
            self.bucket.flush()
        except Exception:
            logger.warning("budget %s: flush failed", self.name)
        if stats:
            try:
                cache.delete_many(
                    [_stat_key(self.name, k) for k in (*_STAT_COUNTERS, *_STAT_VALUES)]
                )
            except Exception:
                logger.warning("provider stats %s: reset failed", self.name)
        self.breaker_state()

    def close(self) -> None:
        self.client.close()


def decode_json(content: bytes) -> Any:
    """Strict JSON: HTML error pages, truncated bodies, NaN/Infinity literals are rejected."""
    head = content[:64].lstrip().lower()
    if head.startswith((b"<!doctype", b"<html", b"<")):
        raise InvalidPayload("HTML instead of JSON")

    def _no_constants(name: str) -> Any:
        raise InvalidPayload(f"non-finite number {name}")

    try:
        # Provider text may carry control characters (cleaned where stored); depth is bounded.
        return loads_bounded(content, check_strings=False, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise InvalidPayload(f"malformed JSON at char {exc.pos}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidPayload("not UTF-8") from exc
    except JSONRejected as exc:
        raise InvalidPayload(str(exc)) from exc


def _short(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):  # pydantic: where and what, not the model's repr
        try:
            first = errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "body"
            return f"{where}: {first.get('msg', '')}"[:120]
        except Exception:  # noqa: S110 (fall through to the plain text)
            pass
    text = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return text[:120]


# --- registry -----------------------------------------------------------------------------
_factories: dict[str, Callable[[], ProviderConfig]] = {}
_instances: dict[str, ProviderHttp] = {}
_registry_lock = threading.Lock()


def register_provider(name: str, factory: Callable[[], ProviderConfig]) -> None:
    """Register how to build a provider's config; called lazily on first use."""
    _factories[name] = factory


def provider_http(name: str) -> ProviderHttp:
    with _registry_lock:
        inst = _instances.get(name)
        if inst is None:
            if name not in _factories:
                raise KeyError(f"unknown provider {name!r}")
            inst = ProviderHttp(_factories[name]())
            _instances[name] = inst
        return inst


def reset_providers(*, stats: bool = True, rebuild: bool = True) -> None:
    """Tests and settings changes: reset state and drop clients so configs are re-read."""
    global _redis_client
    with _registry_lock:
        instances = list(_instances.values())
        if rebuild:
            _instances.clear()
    for inst in instances:
        inst.reset(stats=stats)
        if rebuild:
            inst.close()
    if rebuild:
        with _redis_lock:
            _redis_client = None
