"""DRF throttles that step aside (logged) when the cache behind them is down.

Throttles are abuse dampening; the hard limits (account lockout) live in the database. When
Redis is unreachable a throttle that raised would turn every request into a 500, and one that
counted in process memory would silently multiply the limit by the number of processes: so
they let the request through and log it, never falling back to per-process counters.
"""

from __future__ import annotations

from typing import Any

import structlog
from rest_framework import throttling
from rest_framework.request import Request

log = structlog.get_logger(__name__)


class FailOpenMixin:
    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except Exception as exc:  # the cache client's connection errors vary by backend
            log.warning(
                "throttle_unavailable", throttle=type(self).__name__, error=type(exc).__name__
            )
            return True


class AnonRateThrottle(FailOpenMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(FailOpenMixin, throttling.UserRateThrottle):
    """The signed-in rate. DRF's would also count anonymous clients by address, beside
    ``AnonRateThrottle`` (stricter, same key): a second sliding window to load and store in the
    cache on every anonymous request that could never be the one to refuse it."""

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None  # DRF skips a throttle without a key
        return super().get_cache_key(request, view)  # type: ignore[no-any-return]


class ScopedRateThrottle(FailOpenMixin, throttling.ScopedRateThrottle):
    pass
