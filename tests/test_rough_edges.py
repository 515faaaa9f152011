"""Rough edges a newcomer met on a fresh install (issue 12); each test failed before its fix."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.test_errors import assert_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_price_cache():
    from markets.live import reset_price_cache

    reset_price_cache()
    yield
    reset_price_cache()


def test_post_to_an_unknown_api_path_is_a_404_envelope_even_with_csrf_enforced():
    client = Client(enforce_csrf_checks=True)
    assert_envelope(client.post("/api/v1/no-such-endpoint", {}), 404, "not_found")


def test_csrf_failure_view_answers_the_envelope_for_api_paths(rf):
    from core.views import csrf_failure

    response = csrf_failure(rf.post("/api/v1/cache/clear"), reason="CSRF cookie not set.")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert b"csrf_failed" in response.content


def test_csrf_failure_outside_the_api_is_still_an_html_page(rf):
    from core.views import csrf_failure

    response = csrf_failure(rf.post("/admin/login/"), reason="CSRF cookie not set.")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


def test_invalid_bearer_token_is_one_token_not_valid_error(client):
    response = client.get("/api/v1/auth/me", HTTP_AUTHORIZATION="Bearer not.a.jwt")
    body = assert_envelope(response, 401)
    assert body["errors"] == [
        {"code": "token_not_valid", "detail": "Token is invalid or expired.", "attr": None}
    ]


def test_gitignore_lists_the_uv_bootstrap_dir():
    from django.conf import settings

    lines = (settings.BASE_DIR / ".gitignore").read_text().splitlines()
    assert ".tools/" in lines


def test_every_runtime_file_follows_cryptocast_VAR_DIR_with_database_url_alone(tmp_path):
    """DATABASE_URL without REDIS_URL: broker, results, budgets and reports go to the var dir."""
    import json
    import os
    import subprocess
    import sys

    from django.conf import settings

    code = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "from forecasts.management.commands.backtest import Command;"
        "p = Command().create_parser('manage.py', 'backtest');"
        "print(json.dumps({'broker': s.CELERY_BROKER_URL, 'results': s.CELERY_RESULT_BACKEND,"
        "'budget': s.PROVIDER_BUDGET_SQLITE_PATH, 'static': str(s.STATIC_ROOT),"
        "'backtest': p.get_default('out')}))"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL"}} | {
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": "postgres://u:p@127.0.0.1:1/none",
        "CRYPTOCAST_VAR_DIR": str(tmp_path),
    }
    env.pop("CELERY_RESULT_BACKEND", None)
    env.pop("PROVIDER_BUDGET_SQLITE_PATH", None)
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    paths = json.loads(out.strip().splitlines()[-1])
    for name, value in paths.items():
        assert str(tmp_path) in value, f"{name} is written outside CRYPTOCAST_VAR_DIR: {value}"


# --- market data on a fresh install with the sample data -------------------------------------


@pytest.fixture
def recent_sample(sample_data, tmp_path):
    """The last 60 daily BTC and ETH candles and their recorded CoinGecko market caps."""
    for sub in ("ohlcv/daily", "marketcap/coingecko"):
        (tmp_path / sub).mkdir(parents=True)
    for sym in ("BTC", "ETH"):
        lines = (sample_data / "ohlcv" / "daily" / f"{sym}.csv").read_text().splitlines()
        (tmp_path / "ohlcv" / "daily" / f"{sym}.csv").write_text(
            "\n".join([lines[0], *lines[-60:]]) + "\n"
        )
        src = sample_data / "marketcap" / "coingecko" / f"{sym}.csv"
        (tmp_path / "marketcap" / "coingecko" / f"{sym}.csv").write_bytes(src.read_bytes())
    return tmp_path


def test_sample_quotes_carry_recorded_market_caps(recent_sample, client):
    from markets.services import load_sample_data

    load_sample_data(data_dir=recent_sample)
    top = client.get("/api/v1/cryptocurrencies/top/market-cap").json()
    rows = top["results"] if isinstance(top, dict) and "results" in top else top
    rows = rows.get("data", rows) if isinstance(rows, dict) else rows
    assert [r["id"] for r in rows][:2] == ["bitcoin", "ethereum"]
    btc = client.get("/api/v1/cryptocurrencies/bitcoin").json()
    cap = btc.get("market_cap") or btc["quote"]["market_cap"]
    # CoinGecko's supply (~19.9M BTC in July 2025) x the close: about 2.1 trillion USD.
    assert 1.8e12 < cap < 2.4e12
    body = client.get("/api/v1/market/global").json()
    assert body["total_market_cap"] > 1.8e12
    assert set(body["dominance"]) == {"btc", "eth"}


def test_a_coin_without_recorded_market_cap_says_null(recent_sample):
    from markets.models import Asset
    from markets.services import load_sample_data

    (recent_sample / "marketcap" / "coingecko" / "ETH.csv").unlink()
    load_sample_data(data_dir=recent_sample)
    assert Asset.objects.get(pk="ethereum").latest_quote.market_cap is None


def test_market_global_and_trending_answer_at_once_offline(client, monkeypatch):
    import time

    from markets import providers

    def slow_unreachable():
        time.sleep(2)
        raise AssertionError("a read waited on a provider")

    monkeypatch.setattr(providers, "fetch_global", slow_unreachable)
    monkeypatch.setattr(providers, "fetch_trending", slow_unreachable)
    started = time.perf_counter()
    assert client.get("/api/v1/market/global").status_code == 200
    assert client.get("/api/v1/market/trending").status_code == 200
    assert time.perf_counter() - started < 1.0


def test_price_history_answers_what_the_store_has_when_it_is_old(recent_sample, client):
    from markets.services import load_sample_data

    load_sample_data(data_dir=recent_sample)  # candles end in July 2025, the clock says later
    for days in (7, 30, 365):
        response = client.get(f"/api/v1/prices/history/bitcoin?days={days}")
        assert response.status_code == 200, days
        body = response.json()
        assert body["count"] == min(days, 60)
        assert body["stale"] is True
        assert body["window"]["end"].startswith("2025-07-06")
        assert body["window"]["coverage"] == round(min(60 / days, 1.0), 4)
        assert body["window"]["age_seconds"] > 86400


def test_price_history_is_503_only_when_there_is_nothing(client):
    from markets.tests.data_helpers import make_asset

    make_asset()
    client.raise_request_exception = False  # a 503 is reported like a server error
    response = client.get("/api/v1/prices/history/bitcoin?days=30")
    assert_envelope(response, 503)
