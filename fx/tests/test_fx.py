"""Exchange rates: the frankfurter parser, storage as a daily series, the lookup by day, the
sync through the resilient HTTP layer.

There is no network here and no recorded frankfurter answer in the sample data, so the
payloads below are HAND-MADE in frankfurter's documented shape (``/latest?from=USD`` and a
``/<from>..<to>`` range); the rate values are invented for the test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest
import respx
import time_machine

from core.http import InvalidPayload, ProviderError, reset_providers
from fx import client, selectors, services
from fx.contracts import DailyRates
from fx.models import ExchangeRate

LATEST = {"amount": 1.0, "base": "USD", "date": "2024-03-01", "rates": {"EUR": 0.92, "GBP": 0.79}}
RANGE = {
    "amount": 1.0,
    "base": "USD",
    "start_date": "2024-02-28",
    "end_date": "2024-03-01",
    "rates": {
        "2024-02-28": {"EUR": 0.93, "GBP": 0.8},
        "2024-02-29": {"EUR": 0.925, "GBP": 0.795},
        "2024-03-01": {"EUR": 0.92, "GBP": 0.79},
    },
}


@pytest.fixture(autouse=True)
def _fresh(settings):  # type: ignore[no-untyped-def]
    settings.PROVIDER_BUDGET_SQLITE_PATH = ""
    settings.FX_API_URL = "https://fx.test/v1"
    reset_providers()
    yield
    reset_providers()


def test_parser_reads_latest_and_range_answers():
    (latest,) = client.parse_rates(LATEST)
    assert latest == DailyRates(
        day=date(2024, 3, 1), rates=(("eur", 0.92), ("gbp", 0.79)), source="frankfurter"
    )
    days = client.parse_rates(RANGE)
    assert [d.day for d in days] == [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]


@pytest.mark.parametrize(
    "bad",
    [
        {**LATEST, "base": "EUR"},
        {**LATEST, "rates": {"EUR": "0.9"}},
        {**LATEST, "rates": {"EUR": -1}},
        {**LATEST, "rates": {"EUR": True}},
        {**LATEST, "rates": {"euro": 0.9}},
        {**LATEST, "rates": {}},
        {**LATEST, "date": "01-03-2024"},
        {**LATEST, "amount": 100},
        [],
    ],
)
def test_parser_rejects_garbage(bad):  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidPayload):
        client.parse_rates(bad)


@pytest.mark.django_db
def test_store_is_idempotent_and_lookup_uses_the_last_published_day():
    days = client.parse_rates(RANGE)
    assert services.rates_store(days=days) == 6
    assert services.rates_store(days=days) == 6
    assert ExchangeRate.objects.count() == 6
    assert selectors.rate_on(currency="eur", day=date(2024, 2, 29)).rate == 0.925
    # A weekend or holiday uses the last published day before it.
    assert selectors.rate_on(currency="eur", day=date(2024, 3, 3)).rate == 0.92
    assert selectors.rate_on(currency="eur", day=date(2024, 1, 1)) is None
    assert selectors.latest_rates()["gbp"].day == date(2024, 3, 1)
    assert selectors.supported_currencies() == ["eur", "gbp"]


@pytest.mark.django_db
def test_latest_rates_cache_is_dropped_when_new_rates_are_stored(
    django_capture_on_commit_callbacks,
):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        services.rates_store(days=client.parse_rates(LATEST))
    assert selectors.supported_currencies() == ["eur", "gbp"]
    more = {**LATEST, "rates": {"EUR": 0.92, "JPY": 150.0}}
    with django_capture_on_commit_callbacks(execute=True):
        services.rates_store(days=client.parse_rates(more))
    assert "jpy" in selectors.supported_currencies()


@pytest.mark.django_db
@respx.mock
def test_sync_fetches_latest_through_the_http_layer():
    route = respx.get("https://fx.test/v1/latest", params={"from": "USD"}).mock(
        return_value=httpx.Response(200, json=LATEST)
    )
    assert services.rates_sync() == 2
    assert route.called


@pytest.mark.django_db
@respx.mock
def test_sync_after_a_gap_fetches_the_missing_days_as_a_range():
    services.rates_store(
        days=[DailyRates(day=date(2024, 2, 27), rates=(("eur", 0.94),), source="frankfurter")]
    )
    route = respx.get("https://fx.test/v1/2024-02-28..", params={"from": "USD"}).mock(
        return_value=httpx.Response(200, json=RANGE)
    )
    with time_machine.travel(datetime(2024, 3, 1, 18, tzinfo=UTC), tick=False):
        services.rates_sync()
    assert route.called
    assert ExchangeRate.objects.filter(currency="eur").count() == 4


@pytest.mark.django_db
@respx.mock
def test_sync_failure_is_a_provider_error_and_stores_nothing(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("time.sleep", lambda s: None)
    respx.get("https://fx.test/v1/latest").mock(return_value=httpx.Response(200, json={"x": 1}))
    with pytest.raises(ProviderError):
        services.rates_sync()
    assert not ExchangeRate.objects.exists()


@pytest.mark.django_db
def test_task_retries_on_provider_error(monkeypatch):  # type: ignore[no-untyped-def]
    from celery.exceptions import Retry

    from fx import tasks

    def down(**kw):  # type: ignore[no-untyped-def]
        raise ProviderError("frankfurter", "down")

    monkeypatch.setattr(services, "rates_sync", down)
    with pytest.raises((Retry, ProviderError)):  # called directly, retry() re-raises the cause
        tasks.sync_rates()
