"""Fiat exchange rates as a daily time series (one row per currency and day).

``rate`` is units of ``currency`` per 1 USD (a double, like every price in the project), so
a USD amount converts with one multiplication. ``day`` is the publisher's reference date.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class ExchangeRate(models.Model):
    currency = models.CharField(max_length=8)  # lower-case ISO 4217 code (eur, gbp, ...)
    day = models.DateField()
    rate = models.FloatField()  # units of currency per 1 USD
    source = models.CharField(max_length=32)
    fetched_at = models.DateTimeField()

    class Meta:
        ordering = ["currency", "-day"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "day"], name="fx_rate_unique_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="fx_rate_gt_0"),
        ]

    def __str__(self) -> str:
        return f"1 USD = {self.rate} {self.currency.upper()} on {self.day} ({self.source})"
