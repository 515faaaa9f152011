"""FilterSet of the listing: every parameter bounded; a bad value is a 400 naming it."""

from __future__ import annotations

import re

import django_filters as df
from django import forms
from django.db.models import F, QuerySet

from .models import Asset

MAX_LIST_ITEMS = 100
_SYMBOL = re.compile(r"^[A-Za-z0-9]{1,32}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
BIG = 1e16  # above any real market cap / volume in USD

ORDERING_FIELDS = {
    "market_cap": "latest_quote__market_cap",
    "volume_24h": "latest_quote__volume_24h",
    "price": "latest_quote__price",
    "change_1h": "latest_quote__change_1h",
    "change_24h": "latest_quote__change_24h",
    "change_7d": "latest_quote__change_7d",
    "name": "name",
    "symbol": "symbol",
    "rank": "rank",
}


class CommaListField(forms.CharField):
    """``a,b,c`` -> ['a','b','c'], each item checked by ``pattern``, at most 100 items."""

    def __init__(self, *, pattern: re.Pattern[str], normalise=str, **kwargs):  # type: ignore[no-untyped-def]
        self.pattern = pattern
        self.normalise = normalise
        super().__init__(max_length=4000, **kwargs)

    def clean(self, value):  # type: ignore[no-untyped-def]
        value = super().clean(value)
        if not value:
            return None
        items = [v.strip() for v in value.split(",") if v.strip()]
        if len(items) > MAX_LIST_ITEMS:
            raise forms.ValidationError(f"at most {MAX_LIST_ITEMS} values", code="max_length")
        bad = [v for v in items if not self.pattern.match(self.normalise(v))]
        if bad:
            raise forms.ValidationError(f"invalid value(s): {', '.join(bad[:5])}", code="invalid")
        return [self.normalise(v) for v in items]


class CommaListFilter(df.Filter):
    field_class = CommaListField

    def filter(self, qs, value):  # type: ignore[no-untyped-def]
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


class SlugFilter(df.CharFilter):
    field_class = forms.SlugField


class BoundedNumberFilter(df.NumberFilter):
    def __init__(self, *args, min_value: float, max_value: float, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)


class NullsLastOrderingFilter(df.OrderingFilter):
    """Ordering whose missing values (no quote yet) always sort last, then a stable tiebreak."""

    def filter(self, qs, value):  # type: ignore[no-untyped-def]
        if value in df.constants.EMPTY_VALUES:
            return qs
        exprs = []
        for param in value:
            desc = param.startswith("-")
            field = self.param_map[param.lstrip("-")]
            exprs.append(F(field).desc(nulls_last=True) if desc else F(field).asc(nulls_last=True))
        return qs.order_by(*exprs, "id")


def _price_filter(field: str, lookup: str, lo: float, hi: float, label: str) -> BoundedNumberFilter:
    return BoundedNumberFilter(
        field_name=f"latest_quote__{field}",
        lookup_expr=lookup,
        min_value=lo,
        max_value=hi,
        label=label,
    )


class AssetFilter(df.FilterSet):
    symbol = CommaListFilter(
        field_name="symbol",
        pattern=_SYMBOL,
        normalise=str.upper,
        label="Comma-separated symbols (BTC,ETH), at most 100",
    )
    ids = CommaListFilter(
        field_name="id",
        pattern=_SLUG,
        normalise=str.lower,
        label="Comma-separated asset ids (bitcoin,ethereum), at most 100",
    )
    category = SlugFilter(method="filter_category", max_length=50, label="A category slug (defi)")
    price_min = _price_filter("price", "gte", 0, BIG, "Minimum price (USD)")
    price_max = _price_filter("price", "lte", 0, BIG, "Maximum price (USD)")
    market_cap_min = _price_filter("market_cap", "gte", 0, BIG, "Minimum market cap (USD)")
    market_cap_max = _price_filter("market_cap", "lte", 0, BIG, "Maximum market cap (USD)")
    volume_min = _price_filter("volume_24h", "gte", 0, BIG, "Minimum 24h volume")
    volume_max = _price_filter("volume_24h", "lte", 0, BIG, "Maximum 24h volume")
    change_24h_min = _price_filter("change_24h", "gte", -100, 1e6, "Minimum 24h change (%)")
    change_24h_max = _price_filter("change_24h", "lte", -100, 1e6, "Maximum 24h change (%)")
    sparkline = df.ChoiceFilter(
        choices=[("7d", "7d")], method="filter_noop", label="Include a 7-day sparkline of closes"
    )
    ordering = NullsLastOrderingFilter(
        fields=[(v, k) for k, v in ORDERING_FIELDS.items()],
        label="Sort by market_cap, volume_24h, price, change_1h, change_24h, change_7d, "
        "name, symbol or rank; prefix - for descending",
    )

    class Meta:
        model = Asset
        fields: list[str] = []

    def filter_category(self, qs: QuerySet[Asset], name: str, value: str) -> QuerySet[Asset]:
        value = value.strip().lower()
        # JSON text containment of the quoted token: exact element match, portable to SQLite.
        return qs.filter(categories__icontains=f'"{value}"')

    def filter_noop(self, qs: QuerySet[Asset], name: str, value: str) -> QuerySet[Asset]:
        return qs
