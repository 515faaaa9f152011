"""Reads of the features API (``/api/v1/features/*``): the forecasting engine's own features.

``technical`` runs :func:`forecasts.engine.features.build_features` — the very function the
models are trained and served with — on the stored daily candles from ``FEATURE_TAIL`` rows
before ``start`` up to ``end``, then keeps ``[start, end]``. Every value at day t uses candles
up to t only (the engine's no-look-ahead rule, checked by its leakage test), so a row never
changes when later candles arrive.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from forecasts.engine.features import WARMUP_ROWS, build_features, feature_names
from forecasts.engine.models import MODEL_TYPES, NEURAL_MODELS
from forecasts.engine.models.gbm import FEATURE_TAIL
from forecasts.engine.models.neural import SEQUENCE_FEATURES
from markets import selectors as market_selectors

_RULES: list[tuple[str, str]] = [
    (r"ret_(\d+)", "log return over {0} days: ln(close_t / close_t-{0})"),
    (r"ret1_lag(\d+)", "1-day log return {0} days before t"),
    (r"vol_(\d+)", "std of daily log returns over {0} days"),
    (r"vol_ewm94", "EWMA volatility of daily log returns (RiskMetrics lambda 0.94)"),
    (r"vol_ratio_(\d+)_(\d+)", "vol_{0} / vol_{1}"),
    (r"parkinson_(\d+)", "Parkinson high-low volatility over {0} days"),
    (r"garman_klass_(\d+)", "Garman-Klass OHLC volatility over {0} days"),
    (r"skew_(\d+)", "skewness of daily log returns over {0} days"),
    (r"kurt_(\d+)", "excess kurtosis of daily log returns over {0} days"),
    (r"rsi_(\d+)", "RSI over {0} days, 0..1 (ta)"),
    (r"macd", "MACD line (12, 26) / close (ta)"),
    (r"macd_signal", "MACD signal line (9) / close (ta)"),
    (r"macd_diff", "MACD histogram / close (ta)"),
    (r"bb_position", "position within the Bollinger bands (20, 2 sd), 0 = lower, 1 = upper"),
    (r"bb_width", "Bollinger band width (20, 2 sd) / middle band"),
    (r"atr_(\d+)", "average true range over {0} days / close"),
    (r"stoch_k_(\d+)", "stochastic %K over {0} days, 0..1"),
    (r"stoch_d_(\d+)", "stochastic %D (3-day mean of %K over {0} days), 0..1"),
    (r"williams_r_(\d+)", "Williams %R over {0} days, -1..0"),
    (r"roc_(\d+)", "rate of change over {0} days (momentum), fraction"),
    (r"tsi", "true strength index (25, 13) / 100 (momentum)"),
    (r"mfi_(\d+)", "money flow index over {0} days, 0..1 (volume)"),
    (r"cmf_(\d+)", "Chaikin money flow over {0} days (volume)"),
    (r"obv_slope_(\d+)", "on-balance-volume change over {0} days / (days x mean volume 30)"),
    (r"close_sma_(\d+)", "close / simple moving average over {0} days - 1"),
    (r"close_max_(\d+)", "close / highest close over {0} days - 1"),
    (r"close_min_(\d+)", "close / lowest close over {0} days - 1"),
    (r"range_hl", "ln(high / low) of the day"),
    (r"body_co", "ln(close / open) of the day"),
    (r"gap_oc", "ln(open_t / close_t-1)"),
    (r"close_in_range", "(close - low) / (high - low) of the day, 0.5 when flat"),
    (r"volume_z_(\d+)", "z-score of ln(1 + volume) over {0} days"),
    (r"volume_ratio_(\d+)_(\d+)", "mean volume over {0} days / mean volume over {1} days"),
    (r"volume_change_1", "change of ln(1 + volume) from the day before"),
    (r"(dow|dom|month)_(sin|cos)", "calendar encoding ({0}, {1})"),
    (r"sentiment", "mean headline sentiment of the day (forward-filled from the past)"),
    (r"sentiment_ma7", "7-day mean of sentiment"),
]


def describe(column: str) -> str:
    for pattern, text in _RULES:
        m = re.fullmatch(pattern, column)
        if m:
            return text.format(*m.groups())
    return ""


def _lookback(column: str) -> int:
    nums = [int(n) for n in re.findall(r"\d+", column)]
    if column.startswith(("ret1_lag",)):
        return nums[0] + 1
    if column in {"macd", "macd_signal", "macd_diff"}:
        return 35
    if column == "tsi":
        return 38
    return max(nums, default=1)


def columns_doc(columns: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "name": c,
            "description": describe(c),
            "lookback_days": _lookback(c),
            "uses": "candles up to and including the row's day only",
        }
        for c in columns
    ]


def feature_sets() -> list[dict[str, Any]]:
    """The named sets the models use, with their columns."""
    all_columns = feature_names()
    neural = sorted(NEURAL_MODELS)
    tabular = sorted(n for n in MODEL_TYPES if n in {"lightgbm", "ensemble"})
    statistical = sorted(set(MODEL_TYPES) - set(neural) - set(tabular))
    return [
        {
            "name": "tabular",
            "models": tabular,
            "description": "every engine feature at the origin (LightGBM; the ensemble's base)",
            "columns": columns_doc(all_columns),
        },
        {
            "name": "sequence",
            "models": neural,
            "description": "a window of these daily features per sample (neural nets)",
            "columns": columns_doc(list(SEQUENCE_FEATURES)),
        },
        {
            "name": "close",
            "models": statistical,
            "description": "the daily close only (random walk, drift, ARIMA, ETS)",
            "columns": [
                {"name": "close", "description": "daily close, USD(T)", "lookback_days": 0}
            ],
        },
    ]


def _bounds(start: date | None, end: date | None, days: int) -> tuple[datetime, datetime]:
    end_dt = (
        datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
        if end
        else datetime.now(UTC)
    )
    start_dt = (
        datetime(start.year, start.month, start.day, tzinfo=UTC)
        if start
        else end_dt - timedelta(days=days)
    )
    return start_dt, end_dt


def ohlcv(*, asset: Any, interval: str, start: datetime, end: datetime) -> pd.DataFrame:
    frame = market_selectors.candle_frame(asset=asset, interval=interval, start=start, end=end)
    return frame[(frame.index >= start) & (frame.index < end)]


def technical(
    *, asset: Any, start: datetime, end: datetime, columns: list[str] | None = None
) -> pd.DataFrame:
    """Engine features for the daily candles in ``[start, end)``, computed from the candles up
    to each row only (warm-up rows before ``start`` are read, then dropped)."""
    warm_from = start - timedelta(days=FEATURE_TAIL)
    history = market_selectors.candle_frame(asset=asset, interval="1d", start=warm_from, end=end)
    history = history[history.index < end]
    if history.empty:
        return pd.DataFrame(columns=columns or feature_names(), dtype="float64")
    feats = build_features(history)
    if columns:
        feats = feats[columns]
    return feats[feats.index >= start]


def closes(*, assets: list[Any], start: datetime, end: datetime) -> pd.DataFrame:
    series = {}
    for asset in assets:
        frame = ohlcv(asset=asset, interval="1d", start=start, end=end)
        series[asset.pk] = frame["close"]
    return pd.DataFrame(series)


def provenance(*, asset: Any, interval: str, start: datetime, end: datetime) -> dict[str, Any]:
    rows = market_selectors.candles(asset=asset, interval=interval, start=start, end=end)
    sources = sorted(set(rows.values_list("source", flat=True).distinct()))
    last = market_selectors.latest_candle_time(asset=asset, interval=interval)
    return {"source": ",".join(sources), "as_of": last}


__all__ = [
    "WARMUP_ROWS",
    "closes",
    "columns_doc",
    "feature_sets",
    "ohlcv",
    "provenance",
    "technical",
]
