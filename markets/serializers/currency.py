"""Serializers of quote currencies: the ``vs`` query field every price endpoint validates with
(an unknown currency is a 400 listing the supported ones) and ``GET /api/v1/currencies``."""

from __future__ import annotations

from rest_framework import serializers

from markets import currency


class VsField(serializers.CharField):
    """A quote currency code (``usd``, ``eur``, ``btc``, ...), validated at read time."""

    def __init__(self, *, with_rate: bool = False, **kwargs):  # type: ignore[no-untyped-def]
        # with_rate: the validated value is the ``currency.Rate`` itself (ONE lookup per
        # request: validation's); else the normalised code.
        self.with_rate = with_rate
        kwargs.setdefault("default", currency.USD)
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("help_text", "Quote currency (GET /api/v1/currencies lists them)")
        super().__init__(**kwargs)

    def to_internal_value(self, data):  # type: ignore[no-untyped-def]
        vs = currency.normalise(super().to_internal_value(data))
        if vs == currency.USD:
            return vs
        try:
            self._rate = currency.rate(vs)  # kept for run_validation (with_rate)
        except currency.UnknownCurrency as exc:
            raise serializers.ValidationError(
                f"Unsupported currency {vs!r}; supported: {', '.join(exc.supported)}."
            ) from exc
        return vs

    def run_validation(self, data=serializers.empty):  # type: ignore[no-untyped-def]
        self._rate = None
        value = super().run_validation(data)  # to_internal_value + validators (max_length)
        if not self.with_rate:
            return value
        return self._rate or currency.IDENTITY  # usd (also the default) is the identity


class VsQuerySerializer(serializers.Serializer):
    """``?vs=`` alone: validated to the ``currency.Rate`` to convert with."""

    vs = VsField(with_rate=True)


def rate_of(query_params) -> currency.Rate:  # type: ignore[no-untyped-def]
    """The rate of the request's ``vs`` (usd when absent); a 400 naming ``vs`` if unknown."""
    s = VsQuerySerializer(data={"vs": query_params["vs"]} if "vs" in query_params else {})
    s.is_valid(raise_exception=True)
    rate: currency.Rate = s.validated_data["vs"]
    return rate


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
