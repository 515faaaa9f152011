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
    pass


class ScopedRateThrottle(FailOpenMixin, throttling.ScopedRateThrottle):
    pass
