"""Causal features from daily OHLCV: every value at row t uses rows <= t only.

``build_features(ohlcv)`` returns one row per input row (early rows contain NaN while the
longest windows warm up). Indicators come from the ``ta`` library where it has them; the
volatility estimators (Parkinson, Garman-Klass) and the calendar encodings are a few lines of
pandas. The leakage test in ``forecasts/tests/engine/test_features.py`` perturbs the future
and checks that past rows do not move.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .forecaster import EngineError

RETURN_LAGS = (1, 2, 3, 5, 7, 14, 21, 30)
PAST_RETURN_LAGS = (1, 2, 3, 4, 5, 6)
VOL_WINDOWS = (7, 14, 30, 60, 90)
RANGE_VOL_WINDOWS = (7, 14, 30)
SMA_WINDOWS = (7, 30, 90, 200)
WARMUP_ROWS = 200  # the longest window; rows before it have NaN features


def _require(frame: pd.DataFrame) -> None:
    missing = [c for c in ("open", "high", "low", "close", "volume") if c not in frame.columns]
    if missing:
        raise EngineError(f"features need OHLCV columns; missing: {', '.join(missing)}")


def build_features(ohlcv: pd.DataFrame, sentiment: pd.Series | None = None) -> pd.DataFrame:
    """Compute the feature matrix (60+ columns) for every row of ``ohlcv``.

    ``sentiment`` (optional) is a daily score series (e.g. mean headline sentiment of the day,
    indexed by day); it adds ``sentiment`` and ``sentiment_ma7`` columns, aligned by date and
    forward-filled only from the past. If ``ohlcv`` has a ``sentiment`` column it is used.
    """
    import ta  # local: keeps `import forecasts.engine` light

    _require(ohlcv)
    o, h, low, c, v = (ohlcv[k].astype(float) for k in ("open", "high", "low", "close", "volume"))
    lc = np.log(c)
    r1 = lc.diff()
    f: dict[str, pd.Series] = {}

    for k in RETURN_LAGS:
        f[f"ret_{k}"] = lc - lc.shift(k)
    for k in PAST_RETURN_LAGS:
        f[f"ret1_lag{k}"] = r1.shift(k)
    for w in VOL_WINDOWS:
        f[f"vol_{w}"] = r1.rolling(w, min_periods=w).std()
    f["vol_ewm94"] = np.sqrt((r1**2).ewm(alpha=0.06, adjust=False, min_periods=20).mean())
    f["vol_ratio_7_30"] = f["vol_7"] / f["vol_30"]
    f["vol_ratio_30_90"] = f["vol_30"] / f["vol_90"]

    hl = np.log(h / low)
    co = np.log(c / o)
    park = hl**2 / (4.0 * np.log(2.0))
    gk = 0.5 * hl**2 - (2.0 * np.log(2.0) - 1.0) * co**2
    for w in RANGE_VOL_WINDOWS:
        f[f"parkinson_{w}"] = np.sqrt(park.rolling(w, min_periods=w).mean())
        f[f"garman_klass_{w}"] = np.sqrt(gk.clip(lower=0).rolling(w, min_periods=w).mean())

    f["skew_30"] = r1.rolling(30, min_periods=30).skew()
    f["kurt_30"] = r1.rolling(30, min_periods=30).kurt()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)  # ta divides by zero on flat data
        for w in (7, 14, 28):
            f[f"rsi_{w}"] = ta.momentum.RSIIndicator(c, window=w).rsi() / 100.0
        macd = ta.trend.MACD(c, window_slow=26, window_fast=12, window_sign=9)
        f["macd"] = macd.macd() / c
        f["macd_signal"] = macd.macd_signal() / c
        f["macd_diff"] = macd.macd_diff() / c
        bb = ta.volatility.BollingerBands(c, window=20, window_dev=2)
        f["bb_position"] = bb.bollinger_pband()
        f["bb_width"] = bb.bollinger_wband() / 100.0
        if len(c) > 14:  # ta's ATR indexes its first window directly
            atr = ta.volatility.AverageTrueRange(h, low, c, window=14).average_true_range()
            f["atr_14"] = atr.where(atr > 0) / c
        else:
            f["atr_14"] = pd.Series(np.nan, index=c.index)
        stoch = ta.momentum.StochasticOscillator(h, low, c, window=14, smooth_window=3)
        f["stoch_k_14"] = stoch.stoch() / 100.0
        f["stoch_d_14"] = stoch.stoch_signal() / 100.0
        f["williams_r_14"] = ta.momentum.WilliamsRIndicator(h, low, c, lbp=14).williams_r() / 100.0
        f["roc_10"] = ta.momentum.ROCIndicator(c, window=10).roc() / 100.0
        f["tsi"] = ta.momentum.TSIIndicator(c).tsi() / 100.0
        f["mfi_14"] = ta.volume.MFIIndicator(h, low, c, v, window=14).money_flow_index() / 100.0
        cmf = ta.volume.ChaikinMoneyFlowIndicator(h, low, c, v, window=20)
        f["cmf_20"] = cmf.chaikin_money_flow()
        obv = ta.volume.OnBalanceVolumeIndicator(c, v).on_balance_volume()
    vol_scale = v.rolling(30, min_periods=30).mean()
    f["obv_slope_14"] = (obv - obv.shift(14)) / (14.0 * vol_scale)
    f["obv_slope_30"] = (obv - obv.shift(30)) / (30.0 * vol_scale)

    for w in SMA_WINDOWS:
        f[f"close_sma_{w}"] = c / c.rolling(w, min_periods=w).mean() - 1.0
    f["close_max_30"] = c / c.rolling(30, min_periods=30).max() - 1.0
    f["close_min_30"] = c / c.rolling(30, min_periods=30).min() - 1.0
    f["close_max_90"] = c / c.rolling(90, min_periods=90).max() - 1.0

    f["range_hl"] = hl
    f["body_co"] = co
    f["gap_oc"] = np.log(o / c.shift(1))
    span = (h - low).replace(0.0, np.nan)
    f["close_in_range"] = ((c - low) / span).fillna(0.5)

    lv = np.log1p(v)
    for w in (7, 30, 90):
        mu = lv.rolling(w, min_periods=w).mean()
        sd = lv.rolling(w, min_periods=w).std()
        f[f"volume_z_{w}"] = (lv - mu) / sd.replace(0.0, np.nan)
    f["volume_ratio_7_30"] = v.rolling(7, min_periods=7).mean() / vol_scale
    f["volume_change_1"] = lv.diff()

    idx = pd.DatetimeIndex(ohlcv.index)
    dow = idx.dayofweek.to_numpy(dtype=float)
    dom = (idx.day.to_numpy(dtype=float) - 1.0) / idx.days_in_month.to_numpy(dtype=float)
    month = idx.month.to_numpy(dtype=float) - 1.0
    f["dow_sin"] = pd.Series(np.sin(2 * np.pi * dow / 7.0), index=ohlcv.index)
    f["dow_cos"] = pd.Series(np.cos(2 * np.pi * dow / 7.0), index=ohlcv.index)
    f["dom_sin"] = pd.Series(np.sin(2 * np.pi * dom), index=ohlcv.index)
    f["dom_cos"] = pd.Series(np.cos(2 * np.pi * dom), index=ohlcv.index)
    f["month_sin"] = pd.Series(np.sin(2 * np.pi * month / 12.0), index=ohlcv.index)
    f["month_cos"] = pd.Series(np.cos(2 * np.pi * month / 12.0), index=ohlcv.index)

    senti = sentiment
    if senti is None and "sentiment" in ohlcv.columns:
        senti = ohlcv["sentiment"]
    if senti is not None:
        s = pd.Series(senti, dtype=float).reindex(ohlcv.index).ffill()
        f["sentiment"] = s
        f["sentiment_ma7"] = s.rolling(7, min_periods=1).mean()

    out = pd.DataFrame(f, index=ohlcv.index)
    return out.replace([np.inf, -np.inf], np.nan).astype("float64")


def feature_names(with_sentiment: bool = False) -> list[str]:
    """Column names :func:`build_features` produces (computed on a tiny synthetic frame)."""
    idx = pd.date_range("2020-01-01", periods=40, freq="D", tz="UTC")
    base = np.linspace(1.0, 2.0, 40)
    frame = pd.DataFrame(
        {"open": base, "high": base * 1.01, "low": base * 0.99, "close": base, "volume": base},
        index=idx,
    )
    if with_sentiment:
        frame["sentiment"] = 0.0
    return list(build_features(frame).columns)
