from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.db import IntegrityError, transaction
from django.test import RequestFactory

from forecasts import services
from forecasts.models import Forecast
from forecasts.services.archive import ImmutableForecastError, assert_mutable_fields_only
from markets import selectors as market_selectors

from .conftest import LAST_DAY

pytestmark = pytest.mark.django_db


def test_actuals_are_filled_once_the_target_candle_exists(coins, artifacts):
    from forecasts.services.generation import _builtin_naive, _store

    # issue from 3 days before the last candle: horizons 1..3 have closed, 4..5 have not
    history = market_selectors.candle_frame(asset="bitcoin")
    past = history.iloc[:-3]
    served = _builtin_naive(past, days=5, reason="")
    _store(
        asset=coins["BTC"],
        requested="naive",
        per_h=dict.fromkeys(range(1, 6), served),
        history=past,
        now=LAST_DAY,
        fh="",
    )
    filled = services.fill_actuals(now=LAST_DAY + timedelta(days=2))
    assert filled == 3
    done = Forecast.objects.filter(actual__isnull=False).order_by("horizon")
    for row in done:
        expected = float(history["close"].loc[row.target_time])
        assert row.actual == pytest.approx(expected)
        assert row.error == pytest.approx(expected - row.point)
    assert Forecast.objects.filter(actual__isnull=True).count() == 2
    assert services.fill_actuals(now=LAST_DAY + timedelta(days=2)) == 0  # idempotent


def test_one_issue_per_asset_model_origin_and_horizon(coins, artifacts):
    services.generate_forecasts(symbols="BTC", models="naive", days=1)
    row = Forecast.objects.get()
    row.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()


def test_bulk_update_of_forecast_fields_is_refused(coins, artifacts):
    services.generate_forecasts(symbols="BTC", models="naive", days=1)
    with pytest.raises(ImmutableForecastError, match="point"):
        Forecast.objects.update(point=1.0)
    assert Forecast.objects.update(actual=2.0) == 1


def test_only_outcome_fields_may_change():
    assert_mutable_fields_only(fields={"actual", "error"})
    with pytest.raises(ImmutableForecastError, match="point"):
        assert_mutable_fields_only(fields={"actual", "point"})


def test_archive_admin_is_read_only(coins, artifacts, staff_user):
    services.generate_forecasts(symbols="BTC", models="naive", days=1)
    admin = site._registry[Forecast]
    request = RequestFactory().get("/admin/")
    request.user = staff_user
    row = Forecast.objects.get()
    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request, row)
    assert not admin.has_delete_permission(request, row)


def test_admin_pages_render_for_staff(client, coins, artifacts, django_user_model):
    services.generate_forecasts(symbols="BTC", models="naive", days=1)
    admin_user = django_user_model.objects.create_superuser(
        email="root@example.com", password="correct-horse-battery-9"
    )
    client.force_login(admin_user)
    row = Forecast.objects.get()
    assert client.get("/admin/forecasts/forecast/").status_code == 200
    assert client.get(f"/admin/forecasts/forecast/{row.pk}/change/").status_code == 200
    assert client.get("/admin/mlserving/modelversion/").status_code == 200
