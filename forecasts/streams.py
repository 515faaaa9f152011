"""The forecasts side of the stream: ``forecasts:<asset id>`` items in another quote currency.

Registered with ``streaming`` from ``ForecastsConfig.ready()``. A forecast is of days for which
no rate exists yet, so (as ``forecasts?vs=``) its point, interval bounds and ``last_close`` are
converted at today's rate; the skill figures are ratios, the same in any currency.
"""

from __future__ import annotations

from typing import Any

from markets import selectors as market_selectors
from markets.contracts import UnknownCurrency
from streaming.services import ChannelError
from streaming.services.convert import Conversion


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def forecasts_currency(vs: str) -> Conversion:
    try:
        rate = market_selectors.currency_rate(vs)
    except UnknownCurrency as exc:
        raise ChannelError(
            "unknown_currency",
            f"unsupported currency {exc.vs!r}; supported: {', '.join(exc.supported)} "
            "(GET /api/v1/currencies)",
        ) from exc
    r = rate.per_usd

    def item(it: dict[str, Any]) -> dict[str, Any]:
        out = dict(it)
        for name in ("last_close", "point"):
            if out.get(name) is not None:
                out[name] = out[name] * r
        out["intervals"] = {
            level: [None if v is None else v * r for v in bounds]
            for level, bounds in (it.get("intervals") or {}).items()
        }
        out["vs"] = rate.vs
        out["rate"] = r
        out["rate_source"] = rate.source
        out["rate_as_of"] = _iso(rate.as_of)
        out["stale"] = bool(it.get("stale") or rate.stale)
        return out

    def apply(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [item(it) for it in items]

    return Conversion(vs=rate.vs, token=f"{rate.vs}@{r!r}@{rate.as_of}", apply=apply)
