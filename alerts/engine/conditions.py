"""Conditions: one pure function per kind, ``(params, obs, active, band) -> Verdict``.

``active`` is true while the alert is pending or firing: the condition then holds until the
value moves past the hysteresis band (``band`` = ``hysteresis_pct`` of the threshold), so a
price hovering at the threshold does not flap. Crossings need the previous value the rule
saw (``previous``): no crossing on the first observation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from alerts.contracts import Kind, Observations, Signal, Verdict

WINDOWS = {"1h": "change_1h", "24h": "change_24h", "7d": "change_7d"}
DIRECTIONS = ("up", "down", "either")
Z_90 = 1.6448536269514722  # the 95th percentile of the standard normal (a 90% band's edge)


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:,.8g}"


def _hold(ok: bool, value: float | None, reason: str, **values: Any) -> Verdict:
    return Verdict(Signal.MATCH if ok else Signal.CLEAR, value, reason, dict(values))


def _no_data(reason: str) -> Verdict:
    return Verdict(Signal.NO_DATA, None, reason)


def crosses_above(p: dict, o: Observations, active: bool, band: float, previous: float | None):
    x = float(p["value"])
    cur = o.price
    assert cur is not None
    if active:  # stays true until the price falls back below the band
        return _hold(cur >= x - band, cur, f"price {_fmt(cur)} vs {_fmt(x)}", threshold=x)
    crossed = previous is not None and previous < x <= cur
    why = (
        f"price crossed above {_fmt(x)} ({_fmt(previous)} -> {_fmt(cur)})"
        if crossed
        else f"price {_fmt(cur)} did not cross above {_fmt(x)}"
    )
    return _hold(crossed, cur, why, threshold=x, previous=previous)


def crosses_below(p: dict, o: Observations, active: bool, band: float, previous: float | None):
    x = float(p["value"])
    cur = o.price
    assert cur is not None
    if active:
        return _hold(cur <= x + band, cur, f"price {_fmt(cur)} vs {_fmt(x)}", threshold=x)
    crossed = previous is not None and previous > x >= cur
    why = (
        f"price crossed below {_fmt(x)} ({_fmt(previous)} -> {_fmt(cur)})"
        if crossed
        else f"price {_fmt(cur)} did not cross below {_fmt(x)}"
    )
    return _hold(crossed, cur, why, threshold=x, previous=previous)


def greater_than(p: dict, o: Observations, active: bool, band: float, previous: float | None):
    x = float(p["value"])
    cur = o.price
    assert cur is not None
    edge = x - band if active else x
    return _hold(
        cur > edge, cur, f"price {_fmt(cur)} {'>' if cur > edge else '<='} {_fmt(x)}", threshold=x
    )


def less_than(p: dict, o: Observations, active: bool, band: float, previous: float | None):
    x = float(p["value"])
    cur = o.price
    assert cur is not None
    edge = x + band if active else x
    return _hold(
        cur < edge, cur, f"price {_fmt(cur)} {'<' if cur < edge else '>='} {_fmt(x)}", threshold=x
    )


def pct_move(p: dict, o: Observations, active: bool, band: float, previous: float | None):
    window, direction, pct = p["window"], p.get("direction", "either"), float(p["percent"])
    change = getattr(o, WINDOWS[window])
    if change is None:
        return _no_data(f"no {window} change")
    edge = pct - band if active else pct
    ok = {
        "up": change >= edge,
        "down": change <= -edge,
        "either": abs(change) >= edge,
    }[direction]
    return _hold(
        ok, change, f"{window} change {change:+.2f}% vs {direction} {pct:g}%", window=window
    )


def enters_range(p: dict, o: Observations, active: bool, band: float, previous: float | None):
    lo, hi = float(p["low"]), float(p["high"])
    cur = o.price
    assert cur is not None
    b = band if active else 0.0
    ok = lo - b <= cur <= hi + b
    return _hold(
        ok,
        cur,
        f"price {_fmt(cur)} {'in' if ok else 'outside'} [{_fmt(lo)}, {_fmt(hi)}]",
        low=lo,
        high=hi,
    )


def exits_range(p: dict, o: Observations, active: bool, band: float, previous: float | None):
    lo, hi = float(p["low"]), float(p["high"])
    cur = o.price
    assert cur is not None
    b = band if active else 0.0
    ok = cur < lo + b or cur > hi - b
    return _hold(
        ok,
        cur,
        f"price {_fmt(cur)} {'outside' if ok else 'in'} [{_fmt(lo)}, {_fmt(hi)}]",
        low=lo,
        high=hi,
    )


def volume_spike(p: dict, o: Observations, active: bool, band: float, previous: float | None):
    k = float(p["multiple"])
    if o.volume_24h is None:
        return _no_data("no 24h volume")
    if not o.volume_median_30d:
        return _no_data("no 30-day volume median")
    ratio = o.volume_24h / o.volume_median_30d
    edge = k - band if active else k
    return _hold(
        ratio >= edge,
        ratio,
        f"24h volume {ratio:.2f}x its 30-day median (threshold {k:g}x)",
        volume_24h=o.volume_24h,
        median_30d=o.volume_median_30d,
    )


def _norm_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def probability_above(point: float, lower90: float, upper90: float, x: float) -> float:
    """P(price > x) from a served 90% band, read as a log-normal (the band is conformal and
    not exactly symmetric in logs, so this is an approximation, labelled as such)."""
    if point <= 0 or lower90 <= 0 or upper90 <= lower90 or x <= 0:
        return 1.0 if x < point else 0.0
    sigma = (math.log(upper90) - math.log(lower90)) / (2 * Z_90)
    return 1.0 - _norm_cdf((math.log(x) - math.log(point)) / sigma)


def _forecast_point(o: Observations, horizon: int):
    fc = o.forecast
    if fc is None:
        return None
    hs = sorted(h for h in fc.points if h <= horizon)
    if not hs:
        return None
    point, bands = fc.points[hs[-1]]
    band = bands.get("90")
    if band is None:
        return None
    return hs[-1], point, band


def forecast_prob(above: bool):
    def check(p: dict, o: Observations, active: bool, band: float, previous: float | None):
        x, h, prob = float(p["value"]), int(p["horizon"]), float(p["probability"])
        found = _forecast_point(o, h)
        if found is None:
            return _no_data(f"no forecast with a 90% band within {h} days")
        used_h, point, (lo, hi) = found
        pa = probability_above(point, lo, hi, x)
        pr = pa if above else 1.0 - pa
        edge = prob - band if active else prob
        side = "above" if above else "below"
        return _hold(
            pr > edge,
            pr,
            f"P(price {side} {_fmt(x)} at {used_h}d) = {pr:.2f} vs {prob:.2f} "
            f"({o.forecast.model if o.forecast else ''} forecast, log-normal read of the 90% band)",
            horizon=used_h,
            point=point,
            lower90=lo,
            upper90=hi,
            model=o.forecast.model if o.forecast else None,
            forecast_issued_at=o.forecast.issued_at.isoformat() if o.forecast else None,
        )

    return check


def forecast_band_exit(p: dict, o: Observations, active: bool, band: float, previous: float | None):
    found = _forecast_point(o, 1)
    if found is None:
        return _no_data("no 1-day forecast with a 90% band")
    cur = o.price
    assert cur is not None
    _, _point, (lo, hi) = found
    ok = cur < lo or cur > hi
    return _hold(
        ok,
        cur,
        f"price {_fmt(cur)} {'outside' if ok else 'inside'} the 90% band [{_fmt(lo)}, {_fmt(hi)}]",
        lower90=lo,
        upper90=hi,
        model=o.forecast.model if o.forecast else None,
    )


def forecast_skill(p: dict, o: Observations, active: bool, band: float, previous: float | None):
    fc = o.forecast
    if fc is None or fc.rel_mae is None:
        return _no_data("no served model skill")
    ok = fc.rel_mae > 1.0
    return _hold(
        ok,
        fc.rel_mae,
        f"{fc.model} relMAE vs naive {fc.rel_mae:.3f} "
        f"({'worse' if ok else 'not worse'} than naive)",
        model=fc.model,
    )


def anomaly(p: dict, o: Observations, active: bool, band: float, previous: float | None):
    a = o.anomaly
    min_score = float(p.get("min_score", 6.0))
    kinds = p.get("kinds") or ["return", "volume"]
    if a is None or a.kind not in kinds or abs(a.score) < min_score:
        return _hold(False, None, "no recent anomaly")
    what = f"{a.value:+.1f}% move" if a.kind == "return" else f"volume {a.value:.1f}x median"
    return _hold(
        True,
        a.score,
        f"anomaly on {a.open_time:%Y-%m-%d}: {what} (robust z {a.score:+.1f})",
        anomaly_day=a.open_time.isoformat(),
        anomaly_kind=a.kind,
    )


Check = Callable[[dict, Observations, bool, float, "float | None"], Verdict]
NEEDS_PRICE = frozenset(
    {
        Kind.CROSSES_ABOVE,
        Kind.CROSSES_BELOW,
        Kind.GREATER_THAN,
        Kind.LESS_THAN,
        Kind.ENTERS_RANGE,
        Kind.EXITS_RANGE,
        Kind.FORECAST_BAND_EXIT,
    }
)
CHECKS: dict[Kind, Check] = {
    Kind.CROSSES_ABOVE: crosses_above,
    Kind.CROSSES_BELOW: crosses_below,
    Kind.GREATER_THAN: greater_than,
    Kind.LESS_THAN: less_than,
    Kind.PCT_MOVE: pct_move,
    Kind.ENTERS_RANGE: enters_range,
    Kind.EXITS_RANGE: exits_range,
    Kind.VOLUME_SPIKE: volume_spike,
    Kind.FORECAST_PROB_ABOVE: forecast_prob(True),
    Kind.FORECAST_PROB_BELOW: forecast_prob(False),
    Kind.FORECAST_BAND_EXIT: forecast_band_exit,
    Kind.FORECAST_SKILL_BELOW_NAIVE: forecast_skill,
    Kind.ANOMALY: anomaly,
}


def threshold_of(kind: Kind, params: dict[str, Any]) -> float:
    """The number the hysteresis percentage applies to."""
    if kind in (Kind.ENTERS_RANGE, Kind.EXITS_RANGE):
        return float(params["high"]) - float(params["low"])
    if kind == Kind.PCT_MOVE:
        return float(params["percent"])
    if kind == Kind.VOLUME_SPIKE:
        return float(params["multiple"])
    if kind in (Kind.FORECAST_PROB_ABOVE, Kind.FORECAST_PROB_BELOW):
        return float(params["probability"])
    if kind == Kind.FORECAST_SKILL_BELOW_NAIVE:
        return 1.0
    if kind in (Kind.FORECAST_BAND_EXIT, Kind.ANOMALY):
        return 0.0
    return float(params["value"])


def check(
    kind: Kind,
    params: dict[str, Any],
    obs: Observations,
    *,
    active: bool,
    hysteresis_pct: float,
    previous: float | None,
) -> Verdict:
    if kind in NEEDS_PRICE and obs.price is None:
        return _no_data("no price")
    try:
        band = abs(threshold_of(kind, params)) * hysteresis_pct / 100.0
        return CHECKS[kind](params, obs, active, band, previous)
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        return Verdict(Signal.ERROR, None, f"cannot evaluate: {exc.__class__.__name__}: {exc}")


def describe(kind: Kind, params: dict[str, Any]) -> str:
    """A readable sentence for a condition (shown with every alert)."""
    v = params.get("value", 0)
    match kind:
        case Kind.CROSSES_ABOVE:
            return f"price crosses above {_fmt(float(v))}"
        case Kind.CROSSES_BELOW:
            return f"price crosses below {_fmt(float(v))}"
        case Kind.GREATER_THAN:
            return f"price is greater than {_fmt(float(v))}"
        case Kind.LESS_THAN:
            return f"price is less than {_fmt(float(v))}"
        case Kind.PCT_MOVE:
            d = params.get("direction", "either")
            word = {"up": "rises", "down": "falls", "either": "moves"}[d]
            return f"price {word} at least {float(params['percent']):g}% in {params['window']}"
        case Kind.ENTERS_RANGE:
            return f"price enters [{_fmt(float(params['low']))}, {_fmt(float(params['high']))}]"
        case Kind.EXITS_RANGE:
            return f"price exits [{_fmt(float(params['low']))}, {_fmt(float(params['high']))}]"
        case Kind.VOLUME_SPIKE:
            return f"24h volume above {float(params['multiple']):g}x its 30-day median"
        case Kind.FORECAST_PROB_ABOVE | Kind.FORECAST_PROB_BELOW:
            side = "above" if kind == Kind.FORECAST_PROB_ABOVE else "below"
            return (
                f"forecast probability that the price is {side} {_fmt(float(v))} within "
                f"{int(params['horizon'])} days exceeds {float(params['probability']):.0%}"
            )
        case Kind.FORECAST_BAND_EXIT:
            return "price leaves the latest 90% forecast band"
        case Kind.FORECAST_SKILL_BELOW_NAIVE:
            return "the served forecast model's skill falls below naive"
        case Kind.ANOMALY:
            z = float(params.get("min_score", 6))
            z = float(params.get("min_score", 6))
            return f"the anomaly detector flags the coin (|z| >= {z:g})"
    return str(kind)
