"""What forecasts offers and how a request names it: the model types (and ``auto``), the
baseline, the interval levels, the horizon limits, the manifest key of a coin; and the checks
of input against them (``ForecastInputError``, whose message is shown to users as is).

Read by the services, the selectors and the API alike, so it sits beside them, not under
``services``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.conf import settings

#: every model type a client may ask for (``auto`` resolves to one of the others per horizon)
MODEL_TYPES: tuple[str, ...] = (
    "naive",
    "drift",
    "arima",
    "ets",
    "lightgbm",
    "lstm",
    "tcn",
    "transformer",
    "dlinear",
    "ensemble",
)
REQUESTABLE_MODELS: tuple[str, ...] = ("auto", *MODEL_TYPES)
NEURAL_MODELS = frozenset({"lstm", "tcn", "transformer", "dlinear"})
BASELINE = "naive"
LEVELS: tuple[int, ...] = (80, 90, 95)
MAX_API_DAYS = 30
BUILTIN_VERSION = "builtin"


class ForecastInputError(ValueError):
    """Bad input to forecasts (the message is shown to the user as is)."""


def default_models() -> list[str]:
    """``FORECAST_DEFAULT_MODELS``, or every model type when it is empty."""
    return list(getattr(settings, "FORECAST_DEFAULT_MODELS", None) or MODEL_TYPES)


def horizon_days() -> int:
    return max(1, min(int(getattr(settings, "FORECAST_HORIZON_DAYS", MAX_API_DAYS)), 365))


def parse_csv(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [i.strip() for i in items if i and i.strip()]


def check_models(models: Iterable[str], *, allow_auto: bool) -> list[str]:
    allowed = REQUESTABLE_MODELS if allow_auto else MODEL_TYPES
    out: list[str] = []
    for m in models:
        name = m.strip().lower()
        if name not in allowed:
            raise ForecastInputError(f"unknown model {m!r}; choose from: {', '.join(allowed)}")
        if name not in out:
            out.append(name)
    if not out:
        raise ForecastInputError("no models given")
    return out


def key_of(asset) -> str:  # type: ignore[no-untyped-def]
    """The manifest key of an asset: its upper-case symbol (``BTC``)."""
    return str(asset.symbol).upper()
