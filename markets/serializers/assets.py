"""Serializers of assets, their quotes, candles and coverage (read shapes and query
validation)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from markets import currency
from markets.models import Interval
from markets.payloads import QUOTE_FIELDS, quote_is_stale, quote_payload

from .currency import VsField


def _now(context: dict) -> datetime:
    now = context.get("now")
    if now is None:
        now = context["now"] = timezone.now()
    return now


class QuoteFiguresSerializer(serializers.Serializer):
    """The market figures of a quote (floats; changes in percent)."""

    price = serializers.FloatField()
    market_cap = serializers.FloatField(allow_null=True)
    volume_24h = serializers.FloatField(allow_null=True)
    change_1h = serializers.FloatField(allow_null=True)
    change_24h = serializers.FloatField(allow_null=True)
    change_7d = serializers.FloatField(allow_null=True)
    change_30d = serializers.FloatField(allow_null=True)
    high_24h = serializers.FloatField(allow_null=True)
    low_24h = serializers.FloatField(allow_null=True)


class AssetSerializer(serializers.Serializer):
    """An asset with its latest quote flattened in; quote fields are null before any sync
    (and ``stale`` is then true)."""

    id = serializers.CharField()
    symbol = serializers.CharField()
    name = serializers.CharField()
    rank = serializers.IntegerField(allow_null=True)
    categories = serializers.ListField(child=serializers.CharField())
    image_url = serializers.CharField()
    price = serializers.FloatField(source="latest_quote.price", allow_null=True)
    market_cap = serializers.FloatField(source="latest_quote.market_cap", allow_null=True)
    volume_24h = serializers.FloatField(source="latest_quote.volume_24h", allow_null=True)
    change_1h = serializers.FloatField(source="latest_quote.change_1h", allow_null=True)
    change_24h = serializers.FloatField(source="latest_quote.change_24h", allow_null=True)
    change_7d = serializers.FloatField(source="latest_quote.change_7d", allow_null=True)
    change_30d = serializers.FloatField(source="latest_quote.change_30d", allow_null=True)
    high_24h = serializers.FloatField(source="latest_quote.high_24h", allow_null=True)
    low_24h = serializers.FloatField(source="latest_quote.low_24h", allow_null=True)
    source = serializers.CharField(source="latest_quote.source", allow_null=True)
    as_of = serializers.DateTimeField(source="latest_quote.as_of", allow_null=True)
    fetched_at = serializers.DateTimeField(source="latest_quote.fetched_at", allow_null=True)
    stale = serializers.SerializerMethodField()
    fallback_reason = serializers.CharField(source="latest_quote.fallback_reason", allow_null=True)
    sparkline_7d = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_stale(self, asset) -> bool:  # type: ignore[no-untyped-def]
        return quote_is_stale(asset.latest_quote, now=_now(self.context))

    @extend_schema_field(serializers.ListField(child=serializers.FloatField(), allow_null=True))
    def get_sparkline_7d(self, asset):  # type: ignore[no-untyped-def]
        sparklines = self.context.get("sparklines")
        if sparklines is None:
            return None
        return sparklines.get(asset.pk, [])

    def to_representation(self, asset):  # type: ignore[no-untyped-def]
        """The quote part is ``markets.payloads.quote_payload``: the shape /prices and the
        streams serve (the declared fields above document it for the schema)."""
        quote = quote_payload(asset=asset, quote=asset.latest_quote, now=_now(self.context))
        rate = self.context.get("rate")  # a ``currency.Rate`` other than USD (?vs=), or None
        if rate is not None:
            quote = currency.convert_quote(quote, rate)
        out = {k: quote[k] for k in ("id", "symbol", "name", "rank")}
        out["categories"] = list(asset.categories or [])
        out["image_url"] = asset.image_url
        out.update({k: quote[k] for k in QUOTE_FIELDS[4:]})
        if rate is not None:
            out.update({k: quote[k] for k in currency.RATE_FIELDS})
        sparkline = self.get_sparkline_7d(asset)
        if rate is not None and sparkline:
            sparkline = [v * rate.per_usd for v in sparkline]  # at today's rate
        out["sparkline_7d"] = sparkline
        return out


class AssetDetailSerializer(AssetSerializer):
    provider_ids = serializers.SerializerMethodField()
    is_active = serializers.BooleanField()

    def to_representation(self, asset):  # type: ignore[no-untyped-def]
        out = super().to_representation(asset)
        out["provider_ids"] = self.get_provider_ids(asset)
        out["is_active"] = asset.is_active
        return out

    @extend_schema_field(
        serializers.DictField(child=serializers.CharField(), help_text="provider -> its id")
    )
    def get_provider_ids(self, asset):  # type: ignore[no-untyped-def]
        return {
            "coingecko": asset.coingecko_id,
            "binance": asset.binance_symbol,
            "coincap": asset.coincap_id,
            "cryptocompare": asset.cryptocompare_symbol,
        }


class CandleSerializer(serializers.Serializer):
    open_time = serializers.DateTimeField()
    open = serializers.FloatField()
    high = serializers.FloatField()
    low = serializers.FloatField()
    close = serializers.FloatField()
    volume = serializers.FloatField()
    source = serializers.CharField()


class HistoryQuerySerializer(serializers.Serializer):
    vs = VsField()
    interval = serializers.ChoiceField(choices=Interval.choices, default=Interval.D1)
    start = serializers.DateTimeField(required=False, default=None)
    end = serializers.DateTimeField(required=False, default=None)

    def to_internal_value(self, data):  # type: ignore[no-untyped-def]
        # Accept plain dates (2024-01-31) as midnight UTC.
        data = data.copy() if hasattr(data, "copy") else dict(data)
        for key in ("start", "end"):
            value = data.get(key)
            if isinstance(value, str) and len(value) == 10 and value[4] == "-":
                data[key] = f"{value}T00:00:00Z"
        return super().to_internal_value(data)

    def validate(self, attrs):  # type: ignore[no-untyped-def]
        if attrs.get("start") and attrs.get("end") and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"end": "end must not be before start."})
        return attrs


class IntervalQuerySerializer(serializers.Serializer):
    interval = serializers.ChoiceField(choices=Interval.choices, default=Interval.D1)


class GapSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    missing = serializers.IntegerField()


class CoverageSerializer(serializers.Serializer):
    asset_id = serializers.CharField()
    interval = serializers.CharField()
    first = serializers.DateTimeField(allow_null=True)
    last = serializers.DateTimeField(allow_null=True)
    expected = serializers.IntegerField()
    present = serializers.IntegerField()
    missing = serializers.IntegerField()
    coverage_pct = serializers.FloatField()
    gaps = GapSerializer(many=True)
    gaps_truncated = serializers.BooleanField()


class TopQuerySerializer(serializers.Serializer):
    window = serializers.ChoiceField(choices=["1h", "24h", "7d"], default="24h")
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)
