"""Models of `markets`: canonical assets, quote history and OHLCV candles.

Money and prices are IEEE doubles (``FloatField`` = ``double precision`` on PostgreSQL, ``REAL``
on SQLite) everywhere, as in ``markets.contracts``: one way, consistently.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from core.models import TimeStampedModel


class Asset(TimeStampedModel):
    """One canonical coin. ``id`` is our slug (``bitcoin``); symbols are NOT unique.

    Each provider's own identifier is mapped explicitly so a symbol collision can never
    silently resolve to the wrong coin (see ``selectors.asset_get``).
    """

    id = models.SlugField(primary_key=True, max_length=100)
    symbol = models.CharField(max_length=32, db_index=True)
    name = models.CharField(max_length=200)
    rank = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    categories = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True, db_index=True)
    coingecko_id = models.CharField(max_length=100, blank=True, db_index=True)
    binance_symbol = models.CharField(max_length=32, blank=True, db_index=True)
    coincap_id = models.CharField(max_length=100, blank=True)
    cryptocompare_symbol = models.CharField(max_length=32, blank=True)
    image_url = models.URLField(max_length=500, blank=True)
    # Denormalised pointer to the newest Quote: the listing reads it with one JOIN.
    latest_quote = models.OneToOneField(
        "Quote",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="latest_for",
    )

    class Meta:
        ordering = ["rank", "id"]
        indexes = [models.Index(fields=["is_active", "rank"], name="markets_asset_active_rank")]

    def __str__(self) -> str:
        return f"{self.name} ({self.symbol})"


class Quote(models.Model):
    """One market snapshot of an asset from one provider (history is kept as a time series).

    ``as_of`` is the provider's own timestamp, ``fetched_at`` when we received it;
    ``fallback_reason`` is blank unless a failover happened.
    """

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="quotes")
    price = models.FloatField()
    market_cap = models.FloatField(null=True, blank=True)
    volume_24h = models.FloatField(null=True, blank=True)
    change_1h = models.FloatField(null=True, blank=True)
    change_24h = models.FloatField(null=True, blank=True)
    change_7d = models.FloatField(null=True, blank=True)
    change_30d = models.FloatField(null=True, blank=True)
    high_24h = models.FloatField(null=True, blank=True)
    low_24h = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=32)
    as_of = models.DateTimeField()
    fetched_at = models.DateTimeField()
    fallback_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-as_of"]
        constraints = [
            # Re-storing the same provider snapshot is a no-op (idempotent syncs).
            models.UniqueConstraint(
                fields=["asset", "source", "as_of"], name="markets_quote_unique_snapshot"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="markets_quote_price_gte_0"),
        ]
        indexes = [
            models.Index(fields=["asset", "-as_of"], name="markets_quote_asset_asof"),
            models.Index(fields=["fetched_at"], name="markets_quote_fetched"),
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.price} @ {self.as_of:%Y-%m-%d %H:%M} ({self.source})"


class Interval(models.TextChoices):
    M1 = "1m", "1 minute"
    M5 = "5m", "5 minutes"
    H1 = "1h", "1 hour"
    H4 = "4h", "4 hours"
    D1 = "1d", "1 day"


class Candle(models.Model):
    """One OHLCV candle; ``open_time`` is the candle's opening instant (UTC).

    The database enforces the OHLC invariants, so no code path can store an impossible candle.
    ``high >= greatest(open, close)`` is written as two comparisons: the same predicate, and
    portable to SQLite (whose ``max()`` differs from PostgreSQL's ``GREATEST``).
    """

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="candles")
    interval = models.CharField(max_length=3, choices=Interval.choices)
    open_time = models.DateTimeField()
    open = models.FloatField()
    high = models.FloatField()
    low = models.FloatField()
    close = models.FloatField()
    volume = models.FloatField()
    source = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["asset", "interval", "open_time"]
        constraints = [
            # Also the index for range scans (asset, interval, open_time BETWEEN ...).
            models.UniqueConstraint(
                fields=["asset", "interval", "open_time"], name="markets_candle_unique_time"
            ),
            models.CheckConstraint(
                condition=Q(open__gte=0) & Q(high__gte=0) & Q(low__gte=0) & Q(close__gte=0),
                name="markets_candle_prices_gte_0",
            ),
            models.CheckConstraint(condition=Q(volume__gte=0), name="markets_candle_volume_gte_0"),
            models.CheckConstraint(
                condition=Q(high__gte=F("low")), name="markets_candle_high_gte_low"
            ),
            models.CheckConstraint(
                condition=Q(high__gte=F("open")) & Q(high__gte=F("close")),
                name="markets_candle_high_gte_open_close",
            ),
            models.CheckConstraint(
                condition=Q(low__lte=F("open")) & Q(low__lte=F("close")),
                name="markets_candle_low_lte_open_close",
            ),
        ]
        indexes = [
            # "latest candle of every asset at this interval" (schedules, coverage).
            models.Index(fields=["interval", "open_time"], name="markets_candle_interval_time"),
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.interval} {self.open_time:%Y-%m-%d %H:%M}"
