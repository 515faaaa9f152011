"""The database itself refuses impossible candles and quotes (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from markets.models import Candle, Quote
from markets.tests.data_helpers import T0, make_asset

pytestmark = pytest.mark.django_db

GOOD = {"open": 10.0, "high": 12.0, "low": 9.0, "close": 11.0, "volume": 5.0}


def _insert(asset, **overrides):  # type: ignore[no-untyped-def]
    values = {**GOOD, **overrides}
    with transaction.atomic():
        Candle.objects.create(asset=asset, interval="1d", open_time=T0, source="t", **values)


def test_valid_candle_is_stored():
    asset = make_asset()
    _insert(asset)
    assert Candle.objects.count() == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"open": -1.0, "low": -2.0},  # negative price
        {"volume": -0.1},  # negative volume
        {"high": 8.0, "low": 9.0, "open": 8.5, "close": 8.5},  # high < low
        {"high": 10.5},  # high < close
        {"high": 10.9, "open": 11.0, "close": 10.0},  # high < open
        {"low": 10.5},  # low > open
        {"low": 9.0, "open": 10.0, "close": 8.0},  # low > close
    ],
)
def test_db_rejects_impossible_candle(overrides):  # type: ignore[no-untyped-def]
    asset = make_asset()
    with pytest.raises(IntegrityError):
        _insert(asset, **overrides)
    assert Candle.objects.count() == 0


def test_db_rejects_a_second_candle_at_the_same_open_time():
    asset = make_asset()
    _insert(asset)
    with pytest.raises(IntegrityError):
        _insert(asset)


def test_same_open_time_in_another_interval_is_a_different_candle():
    asset = make_asset()
    _insert(asset)
    Candle.objects.create(asset=asset, interval="1h", open_time=T0, source="t", **GOOD)
    assert Candle.objects.count() == 2


def test_db_rejects_negative_quote_price():
    asset = make_asset()
    with pytest.raises(IntegrityError), transaction.atomic():
        Quote.objects.create(asset=asset, price=-1, source="x", as_of=T0, fetched_at=T0)


# The Python validation (used before any write) and the database constraints agree exactly.
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from markets.contracts import CandleData  # noqa: E402
from markets.services import candle_problems  # noqa: E402

_price = st.floats(min_value=-5, max_value=50, allow_nan=False, allow_infinity=False)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(o=_price, h=_price, lo=_price, c=_price, v=_price)
@example(o=1.0, h=2.0, lo=0.5, c=1.5, v=1.0)
@example(o=1.0, h=1.0, lo=1.0, c=1.0, v=0.0)  # a flat candle is legal
@example(o=0.0, h=0.0, lo=0.0, c=0.0, v=0.0)
@example(o=1.0, h=2.0, lo=0.5, c=2.0000001, v=1.0)
def test_python_validation_matches_the_db_constraints(o, h, lo, c, v):  # type: ignore[no-untyped-def]
    asset = make_asset()
    valid = not candle_problems(CandleData(T0, o, h, lo, c, v, "t"))
    try:
        with transaction.atomic():
            Candle.objects.create(
                asset=asset, interval="1d", open_time=T0, open=o, high=h, low=lo, close=c, volume=v
            )
            stored = True
            transaction.set_rollback(True)
    except IntegrityError:
        stored = False
    assert stored == valid, (o, h, lo, c, v)
