"""The forecast API's response cache: a ``core.cache.GenerationalCache`` keyed so that a write
is served at once.

A key holds the manifest's signature (a promotion or a rebuilt manifest changes it) and the
generation counter that every forecasts write bumps on commit (:func:`bump_generation`);
``FORECAST_API_L1_SECONDS`` bounds how long another process serves the previous generation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from core.cache import GenerationalCache, TwoTierCache
from mlserving import selectors as ml_selectors

T = TypeVar("T")

_responses = GenerationalCache(
    prefix="forecasts:api",
    l1_seconds="FORECAST_API_L1_SECONDS",
    ttl_seconds="FORECAST_API_CACHE_SECONDS",
)


def _cache() -> TwoTierCache:
    """The two tiers underneath (tests look at the L1 keys)."""
    return _responses.tiers()


def cached(name: str, parts: tuple[Any, ...], build: Callable[[], T]) -> T:
    """The cached response ``name`` for ``parts``, else ``build()``, stored in both tiers."""
    return _responses.cached(name, (ml_selectors.manifest_signature(), *parts), build)


def page_l1(url_key: str) -> bytes | None:
    """A rendered JSON page of this process's tier (its generation and manifest current)."""
    return _responses.peek_l1("page", (ml_selectors.manifest_signature(), url_key))  # type: ignore[no-any-return]


def page(url_key: str, render: Callable[[], bytes]) -> tuple[bytes, str]:
    """The rendered JSON page of ``url_key`` and the tier that answered (``miss``: rendered),
    for :func:`page_l1` to answer next time. ``render`` may read :func:`cached` itself: the
    page's generation is read first, so a page is never stored under a newer generation than
    its payload."""
    return _responses.cached_with_tier("page", (ml_selectors.manifest_signature(), url_key), render)


def bump_generation() -> None:
    """Invalidate every cached forecast response (called on commit after writes)."""
    _responses.bump()


def clear_l1() -> None:
    """Forget this process's tier (what another process, or the L1 TTL passing, sees)."""
    _responses.clear_l1()


def reset() -> None:
    """Tests: empty L1, forget an L2 back-off and the counters."""
    _responses.reset()
