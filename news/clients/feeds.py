"""Feed clients: fetch bytes through ``core.http`` (timeouts, retries, breaker, budget, size
cap) and hand them to the parsers. One provider per source (a broken outlet trips only its
own breaker); credentials and URLs are read from settings lazily, on first use.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from core.http import ProviderConfig, provider_http, register_provider

from ..contracts import Feed, ToneBin
from ..parsers.cryptopanic import parse_posts
from ..parsers.gdelt import parse_artlist, parse_timelinetone
from ..parsers.reddit import parse_listing
from ..parsers.rss import parse_feed

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8"


class SourceSkipped(Exception):
    """The source cannot run as configured (e.g. CryptoPanic without a key): not a failure."""


def _config(name: str, **overrides: Any) -> ProviderConfig:
    budgets: dict[str, int] = getattr(settings, "NEWS_PROVIDER_BUDGETS", {}) or {}
    return ProviderConfig(
        name=name,
        base_url="",
        timeout=float(settings.NEWS_FETCH_TIMEOUT_SECONDS),
        connect_timeout=float(settings.PROVIDER_CONNECT_TIMEOUT_SECONDS),
        attempts=int(settings.PROVIDER_RETRY_ATTEMPTS),
        retry_after_cap=float(settings.PROVIDER_RETRY_AFTER_CAP_SECONDS),
        total_timeout=float(settings.PROVIDER_RETRY_TOTAL_SECONDS),
        budget=int(budgets.get(name, settings.NEWS_DEFAULT_BUDGET_PER_MINUTE)),
        budget_window=60,
        breaker_fail_max=int(settings.PROVIDER_BREAKER_FAIL_MAX),
        breaker_reset_timeout=float(settings.PROVIDER_BREAKER_RESET_SECONDS),
        headers={"User-Agent": settings.NEWS_USER_AGENT},
        **overrides,
    )


def provider_name(slug: str) -> str:
    return "news_" + re.sub(r"[^a-z0-9_]", "_", slug.lower())


def _http(slug: str):  # type: ignore[no-untyped-def]
    name = provider_name(slug)
    register_provider(name, lambda: _config(name))
    return provider_http(name)


def fetch_rss(*, slug: str, url: str) -> Feed:
    return _http(slug).get_bytes(  # type: ignore[no-any-return]
        url, parse=parse_feed, max_bytes=settings.NEWS_MAX_FEED_BYTES, accept=FEED_ACCEPT
    )


def fetch_reddit(*, slug: str, url: str) -> Feed:
    """``url`` is a listing such as ``https://www.reddit.com/r/CryptoCurrency/hot.json``."""
    return _http(slug).get_bytes(  # type: ignore[no-any-return]
        url,
        params={"limit": 50, "raw_json": 1},
        parse=parse_listing,
        max_bytes=settings.NEWS_MAX_FEED_BYTES,
        accept="application/json",
    )


def fetch_gdelt(*, slug: str, url: str, query: str, timespan: str = "1d") -> Feed:
    params = {
        "query": query,
        "mode": "artlist",
        "format": "json",
        "maxrecords": 75,
        "sort": "datedesc",
        "timespan": timespan,
    }
    return _http(slug).get_bytes(  # type: ignore[no-any-return]
        url,
        params=params,
        parse=parse_artlist,
        max_bytes=settings.NEWS_MAX_FEED_BYTES,
        accept="application/json",
    )


def fetch_gdelt_tone(*, query: str, timespan: str = "7d") -> tuple[ToneBin, ...]:
    """A coin's average news tone over time (``mode=timelinetone``)."""
    params = {"query": query, "mode": "timelinetone", "format": "json", "timespan": timespan}
    return _http("gdelt").get_bytes(  # type: ignore[no-any-return]
        settings.NEWS_GDELT_URL,
        params=params,
        parse=parse_timelinetone,
        max_bytes=settings.NEWS_MAX_FEED_BYTES,
        accept="application/json",
    )


def fetch_cryptopanic(*, slug: str, url: str, query: str = "") -> Feed:
    key = settings.CRYPTOPANIC_API_KEY
    if not key:
        raise SourceSkipped("CRYPTOPANIC_API_KEY is not set")
    params = {"auth_token": key, "public": "true", "kind": "news"}
    if query:
        params["filter"] = query
    return _http(slug).get_bytes(  # type: ignore[no-any-return]
        url,
        params=params,
        parse=parse_posts,
        max_bytes=settings.NEWS_MAX_FEED_BYTES,
        accept="application/json",
    )
