"""Query validation and (documentation) shapes of the live, cache-first price endpoints."""

from __future__ import annotations

import re

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from markets.models import Interval
from markets.selectors import INTERVAL_SECONDS

from .assets import QuoteFiguresSerializer
from .currency import VsField

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


MAX_IDS = 50


MAX_HISTORY_POINTS = 5000


class IdsField(serializers.CharField):
    """Comma-separated canonical ids (``bitcoin,ethereum``), at most ``MAX_IDS``."""

    def to_internal_value(self, data: object) -> list[str]:  # type: ignore[override]
        text = super().to_internal_value(data)  # type: ignore[arg-type]
        ids = [p.strip().lower() for p in text.split(",") if p.strip()]
        if not ids:
            raise serializers.ValidationError("Give at least one asset id.")
        if len(ids) > MAX_IDS:
            raise serializers.ValidationError(f"At most {MAX_IDS} ids.")
        bad = [i for i in ids if not SLUG.match(i)]
        if bad:
            raise serializers.ValidationError(f"Not an asset id: {', '.join(bad[:5])}.")
        return list(dict.fromkeys(ids))


class PricesQuerySerializer(serializers.Serializer):
    ids = IdsField(required=False, help_text="Comma-separated asset ids, e.g. bitcoin,ethereum")
    vs = VsField()
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)


class MarketQuerySerializer(serializers.Serializer):
    vs = VsField()
    limit = serializers.IntegerField(min_value=1, max_value=250, default=50)


class QuickPricesQuerySerializer(PricesQuerySerializer):
    vs = VsField(with_rate=True)


class QuickMarketQuerySerializer(MarketQuerySerializer):
    vs = VsField(with_rate=True)


class HistoryQuerySerializer(serializers.Serializer):
    vs = VsField()
    interval = serializers.ChoiceField(choices=Interval.choices, default=Interval.D1)
    days = serializers.IntegerField(min_value=1, max_value=3650, default=30)

    def validate(self, attrs: dict) -> dict:
        points = attrs["days"] * 86_400 // INTERVAL_SECONDS[attrs["interval"]]
        if points > MAX_HISTORY_POINTS:
            raise serializers.ValidationError(
                {
                    "days": (
                        f"Too many {attrs['interval']} candles ({points}); "
                        f"at most {MAX_HISTORY_POINTS}."
                    )
                }
            )
        return attrs


class PriceDatumSerializer(QuoteFiguresSerializer):
    id = serializers.CharField()
    symbol = serializers.CharField()
    name = serializers.CharField()
    rank = serializers.IntegerField(allow_null=True)
    source = serializers.CharField()  # type: ignore[assignment]
    as_of = serializers.DateTimeField()
    fetched_at = serializers.DateTimeField()
    stale = serializers.BooleanField()
    fallback_reason = serializers.CharField(allow_blank=True)


class PricesSerializer(serializers.Serializer):
    vs = serializers.CharField()
    data = serializers.DictField(child=PriceDatumSerializer())  # type: ignore[assignment]
    missing = serializers.ListField(child=serializers.CharField())
    stale = serializers.BooleanField()
    cache = serializers.CharField(required=False, help_text="quick reads only: l1, l2 or l1-stale")


class MarketSerializer(serializers.Serializer):
    vs = serializers.CharField()
    count = serializers.IntegerField()
    data = PriceDatumSerializer(many=True)  # type: ignore[assignment]
    stale = serializers.BooleanField()
    cache = serializers.CharField(required=False)


class HistoryPointSerializer(serializers.Serializer):
    time = serializers.DateTimeField()
    open = serializers.FloatField()
    high = serializers.FloatField()
    low = serializers.FloatField()
    close = serializers.FloatField()
    volume = serializers.FloatField()
    source = serializers.CharField()  # type: ignore[assignment]


class PriceHistorySerializer(serializers.Serializer):
    id = serializers.CharField()
    interval = serializers.CharField()
    count = serializers.IntegerField()
    source = serializers.CharField()  # type: ignore[assignment]
    as_of = serializers.DateTimeField()
    fetched_at = serializers.DateTimeField()
    stale = serializers.BooleanField()
    fallback_reason = serializers.CharField(allow_blank=True)
    window = inline_serializer(
        "PriceHistoryWindow",
        {
            "start": serializers.DateTimeField(),
            "end": serializers.DateTimeField(help_text="now, or after the newest stored candle"),
            "expected": serializers.IntegerField(help_text="candles a full window holds"),
            "coverage": serializers.FloatField(help_text="count / expected, at most 1"),
            "age_seconds": serializers.FloatField(help_text="since the newest candle closed"),
        },
    )
    data = HistoryPointSerializer(many=True)  # type: ignore[assignment]
