"""The candle-history response cache: rendered pages under a generation that every candle
write bumps on commit (``markets.services.candles``), so a new candle is served at once here
and within ``MARKETS_HISTORY_L1_SECONDS`` by every other process.

Candles change hourly at most (the beat jobs write the last few of each series), while a
365-candle page costs ~13 ms of CPU to read and render: the page is cached, not the query.
"""

from __future__ import annotations

from core.cache import GenerationalCache

HISTORY = GenerationalCache(
    prefix="markets:history",
    l1_seconds="MARKETS_HISTORY_L1_SECONDS",
    ttl_seconds="MARKETS_HISTORY_CACHE_SECONDS",
)
