"""Serializers of quote currencies: the ``vs`` query field every price endpoint validates with
(an unknown currency is a 400 listing the supported ones) and ``GET /api/v1/currencies``."""

from __future__ import annotations

from rest_framework import serializers

from . import currency


class VsField(serializers.CharField):
    """A quote currency code (``usd``, ``eur``, ``btc``, ...), validated at read time."""

    def __init__(self, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("default", currency.USD)
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("help_text", "Quote currency (GET /api/v1/currencies lists them)")
        super().__init__(**kwargs)

    def to_internal_value(self, data):  # type: ignore[no-untyped-def]
        vs = currency.normalise(super().to_internal_value(data))
        if vs == currency.USD:
            return vs
        try:
            currency.rate(vs)
        except currency.UnknownCurrency as exc:
            raise serializers.ValidationError(
                f"Unsupported currency {vs!r}; supported: {', '.join(exc.supported)}."
            ) from exc
        return vs


class CurrencySerializer(serializers.Serializer):
    code = serializers.CharField()
    rate = serializers.FloatField(help_text="Units of this currency per 1 USD")
    source = serializers.CharField()
    as_of = serializers.DateTimeField(allow_null=True)
    stale = serializers.BooleanField()


class CurrenciesSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    data = CurrencySerializer(many=True)
    fetched_at = serializers.DateTimeField()
