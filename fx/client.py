"""Frankfurter (ECB reference rates), through the project's resilient HTTP layer.

The client fetches bytes-as-JSON through ``core.http``; ``parse_rates`` is a pure parser that
turns one answer into frozen dataclasses. Frankfurter answers ``/latest?from=USD`` with
``{"amount":1.0,"base":"USD","date":"YYYY-MM-DD","rates":{"EUR":0.9,...}}`` and a range
``/YYYY-MM-DD..YYYY-MM-DD?from=USD`` with ``"rates": {"YYYY-MM-DD": {"EUR": ...}, ...}``.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from django.conf import settings

from core.http import InvalidPayload, ProviderConfig, provider_http, register_provider

from .contracts import DailyRates

SOURCE = "frankfurter"
_CODE = re.compile(r"^[A-Z]{3}$")


def _config() -> ProviderConfig:
    return ProviderConfig(
        name=SOURCE,
        base_url=str(settings.FX_API_URL).rstrip("/"),
        timeout=settings.PROVIDER_TIMEOUT_SECONDS,
        connect_timeout=settings.PROVIDER_CONNECT_TIMEOUT_SECONDS,
        attempts=settings.PROVIDER_RETRY_ATTEMPTS,
        budget=10,
    )


register_provider(SOURCE, _config)


def _day(value: Any) -> date:
    if not isinstance(value, str):
        raise InvalidPayload(f"date is not a string: {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidPayload(f"bad date {value!r}") from exc


def _rates(raw: Any) -> tuple[tuple[str, float], ...]:
    if not isinstance(raw, dict) or not raw:
        raise InvalidPayload("rates is not a non-empty object")
    out = []
    for code, value in sorted(raw.items()):
        if not isinstance(code, str) or not _CODE.match(code):
            raise InvalidPayload(f"bad currency code {code!r}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidPayload(f"rate of {code} is not a number")
        if not math.isfinite(value) or value <= 0:
            raise InvalidPayload(f"rate of {code} is not positive")
        out.append((code.lower(), float(value)))
    return tuple(out)


def parse_rates(data: Any) -> list[DailyRates]:
    """One ``/latest``, ``/<date>`` or ``/<from>..<to>`` answer (base USD) -> days of rates."""
    if not isinstance(data, dict) or data.get("base") != "USD":
        raise InvalidPayload("not a frankfurter answer with base USD")
    if data.get("amount", 1) != 1:
        raise InvalidPayload("amount is not 1")
    rates = data.get("rates")
    if "date" in data:
        return [DailyRates(day=_day(data["date"]), rates=_rates(rates), source=SOURCE)]
    if not isinstance(rates, dict):
        raise InvalidPayload("rates is not an object")
    return [
        DailyRates(day=_day(day), rates=_rates(values), source=SOURCE)
        for day, values in sorted(rates.items())
    ]


def fetch_rates(*, start: date | None = None, end: date | None = None) -> list[DailyRates]:
    """The latest day (no dates) or every published day in ``[start, end]``."""
    path = "/latest" if start is None else f"/{start.isoformat()}..{end.isoformat() if end else ''}"
    return provider_http(SOURCE).get_json(path, params={"from": "USD"}, parse=parse_rates)
