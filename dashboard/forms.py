"""Forms of the signed-in pages: they parse and bound the input; the alerts services decide.

A service's ``ValidationError`` names a field (``params.value``, ``coins``, ``name``); ``adopt``
puts each message on the form field it belongs to, so the page shows the API's own words.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from alerts.contracts import Kind, Trigger

KIND_LABELS = {
    Kind.CROSSES_ABOVE: "price crosses above",
    Kind.CROSSES_BELOW: "price crosses below",
    Kind.GREATER_THAN: "price is above",
    Kind.LESS_THAN: "price is below",
    Kind.PCT_MOVE: "price moves by a percentage",
    Kind.ENTERS_RANGE: "price enters a range",
    Kind.EXITS_RANGE: "price leaves a range",
    Kind.VOLUME_SPIKE: "24h volume spikes",
    Kind.FORECAST_BAND_EXIT: "price leaves the forecast band",
    Kind.FORECAST_SKILL_BELOW_NAIVE: "forecast skill falls below naive",
    Kind.ANOMALY: "anomaly detector flags the coin",
}
VALUE_KINDS = {Kind.CROSSES_ABOVE, Kind.CROSSES_BELOW, Kind.GREATER_THAN, Kind.LESS_THAN}
RANGE_KINDS = {Kind.ENTERS_RANGE, Kind.EXITS_RANGE}
TRIGGER_LABELS = {
    Trigger.EVERY_TIME: "every time (with the cooldown)",
    Trigger.ONCE_PER_BAR: "at most once per hour",
    Trigger.ONCE: "once, then the alert completes",
}
_SPLIT = re.compile(r"[\s,;]+")


def coin_list(text: str) -> list[str]:
    return [c for c in _SPLIT.split(text.strip()) if c]


class WatchlistForm(forms.Form):
    name = forms.CharField(max_length=100)
    coins = forms.CharField(
        max_length=2000, required=False, help_text="ids or symbols, separated by commas"
    )

    def coin_ids(self) -> list[str]:
        return coin_list(self.cleaned_data.get("coins") or "")


class AddToWatchlistForm(forms.Form):
    coin = forms.CharField(max_length=64)
    watchlist = forms.CharField(max_length=20)  # an id, or "new"
    new_name = forms.CharField(max_length=100, required=False)


class AlertForm(forms.Form):
    coin = forms.CharField(max_length=64, required=False)
    name = forms.CharField(max_length=100, required=False)
    kind = forms.ChoiceField(choices=[(k.value, label) for k, label in KIND_LABELS.items()])
    value = forms.FloatField(required=False, label="Price (USD)")
    low = forms.FloatField(required=False, label="Range low (USD)")
    high = forms.FloatField(required=False, label="Range high (USD)")
    percent = forms.FloatField(required=False, label="Move (%)")
    window = forms.ChoiceField(
        choices=[("1h", "1 hour"), ("24h", "24 hours"), ("7d", "7 days")], required=False
    )
    direction = forms.ChoiceField(
        choices=[("either", "either way"), ("up", "up"), ("down", "down")], required=False
    )
    multiple = forms.FloatField(required=False, label="Volume multiple of the 30-day median")
    trigger = forms.ChoiceField(
        choices=[(t.value, label) for t, label in TRIGGER_LABELS.items()],
        initial=Trigger.EVERY_TIME.value,
    )

    def fields_for_service(self) -> dict[str, Any]:
        d = self.cleaned_data
        kind = Kind(d["kind"])
        if kind in VALUE_KINDS:
            params: dict[str, Any] = {"value": d.get("value")}
        elif kind in RANGE_KINDS:
            params = {"low": d.get("low"), "high": d.get("high")}
        elif kind == Kind.PCT_MOVE:
            params = {
                "percent": d.get("percent"),
                "window": d.get("window") or "24h",
                "direction": d.get("direction") or "either",
            }
        elif kind == Kind.VOLUME_SPIKE:
            params = {"multiple": d.get("multiple")}
        elif kind == Kind.ANOMALY:
            params = {"min_score": 6.0}
        else:
            params = {}
        return {
            "name": d.get("name") or "",
            "kind": kind.value,
            "params": params,
            "trigger": d["trigger"],
        }

    @classmethod
    def initial_of(cls, alert: Any) -> dict[str, Any]:
        params = dict(alert.params or {})
        return {
            "coin": alert.asset_id or "",
            "name": alert.name,
            "kind": alert.kind,
            "trigger": alert.trigger,
            **{k: v for k, v in params.items() if k in cls.base_fields},
        }


def adopt(form: forms.Form, error: ValidationError) -> None:
    """Put a service's field-named errors on the form (``params.x`` -> field ``x``)."""
    by_field = getattr(error, "error_dict", None) or {"__all__": error.error_list}
    for name, errors in by_field.items():
        field = name.removeprefix("params.")
        if field in ("symbol", "asset_id"):
            field = "coin"
        target = field if field in form.fields else None
        for e in errors:
            messages = e.messages if hasattr(e, "messages") else [str(e)]
            for message in messages:
                plain = target or name in ("__all__", "non_field_errors")
                form.add_error(target, message if plain else f"{name}: {message}")
