"""GET news/tone: GDELT timelinetone through core.http, cached with provenance, stale on
failure, 503 with nothing kept. The GDELT bodies here are HAND-MADE in the documented
timelinetone JSON shape: no recorded timelinetone response exists (see the shared data
README, "Not found"); the only recording is an artlist."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
import time_machine

from news.services.tone import tone_query

pytestmark = pytest.mark.django_db

TONE = "/api/v1/news/tone"


def timeline(*values: float, start: str = "20260720T000000Z") -> bytes:
    """Hand-made: GDELT's timelinetone envelope (query_details + one "Average Tone" series of
    15-minute bins), values as given."""
    t0 = datetime.strptime(start, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return json.dumps(
        {
            "query_details": {"title": '"Bitcoin" OR "BTC"', "date_resolution": "15m"},
            "timeline": [
                {
                    "series": "Average Tone",
                    "data": [
                        {
                            "date": (t0 + timedelta(minutes=15 * i)).strftime("%Y%m%dT%H%M%SZ"),
                            "value": v,
                        }
                        for i, v in enumerate(values)
                    ],
                }
            ],
        }
    ).encode()


@pytest.fixture
def quiet_client():  # type: ignore[no-untyped-def]
    """5xx answers are reported through got_request_exception, which the default test client
    would re-raise: this one returns them."""
    from rest_framework.test import APIClient

    return APIClient(raise_request_exception=False)


@pytest.fixture
def gdelt(settings):  # type: ignore[no-untyped-def]
    with respx.mock(assert_all_called=False) as mock:
        yield mock.get(settings.NEWS_GDELT_URL)


def test_tone_is_fetched_through_the_shared_layer_with_provenance(
    api_client, assets, gdelt, settings
):
    gdelt.mock(return_value=httpx.Response(200, content=timeline(-1.5, 0.5, 2.5)))
    response = api_client.get(TONE, {"coin": "BTC"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["coin"] == "bitcoin" and body["timespan"] == "7d"
    assert [p["tone"] for p in body["points"]] == [-1.5, 0.5, 2.5]
    assert body["count"] == 3 and body["mean_tone"] == pytest.approx(0.5)
    assert body["source"] == "gdelt" and body["stale"] is False
    assert body["as_of"] == "2026-07-20T00:30:00+00:00"  # the newest bin
    assert body["fetched_at"] and "GDELT average tone" in body["scale"]
    request = gdelt.calls.last.request
    assert request.url.params["mode"] == "timelinetone"
    assert request.url.params["format"] == "json"
    assert request.url.params["timespan"] == "7d"
    assert request.url.params["query"] == '("Bitcoin" OR "BTC")'
    assert request.headers["User-Agent"] == settings.NEWS_USER_AGENT


def test_a_fresh_series_is_served_from_the_cache(api_client, assets, gdelt):
    gdelt.mock(return_value=httpx.Response(200, content=timeline(1.0)))
    api_client.get(TONE, {"coin": "bitcoin", "timespan": "30d"})
    again = api_client.get(TONE, {"coin": "bitcoin", "timespan": "30d"}).json()
    assert gdelt.call_count == 1 and again["points"][0]["tone"] == 1.0
    api_client.get(TONE, {"coin": "bitcoin", "timespan": "1d"})  # another series
    assert gdelt.call_count == 2


def test_gdelt_down_serves_the_last_series_as_stale_with_the_reason(
    api_client, assets, gdelt, settings
):
    gdelt.mock(return_value=httpx.Response(200, content=timeline(3.0)))
    api_client.get(TONE, {"coin": "bitcoin"})
    gdelt.mock(return_value=httpx.Response(503))
    later = datetime.now(UTC) + timedelta(seconds=settings.NEWS_GDELT_TONE_FRESH_SECONDS + 5)
    with time_machine.travel(later):
        body = api_client.get(TONE, {"coin": "bitcoin"}).json()
    assert body["stale"] is True and body["points"][0]["tone"] == 3.0
    assert body["fallback_reason"] == "gdelt: 503 server error"
    assert gdelt.call_count == 1 + settings.PROVIDER_RETRY_ATTEMPTS  # retried, then gave up


def test_nothing_kept_and_gdelt_down_is_a_503_with_retry_after(quiet_client, assets, gdelt):
    gdelt.mock(return_value=httpx.Response(429, headers={"Retry-After": "120"}))
    response = quiet_client.get(TONE, {"coin": "bitcoin"})
    assert response.status_code == 503
    assert response["Retry-After"] == "121"
    assert "GDELT tone is unavailable" in response.json()["errors"][0]["detail"]


@pytest.mark.parametrize(
    "body",
    [
        b"<html>Too many requests</html>",  # GDELT's HTML error page
        b'{"timeline": [{"series": "Average Tone", "data": [{"date": "soon", "value": 1}]}]}',
        b'{"timeline": [{"series": "Average Tone", "da',  # truncated
    ],
)
def test_garbage_from_gdelt_is_never_cached(quiet_client, assets, gdelt, body):
    gdelt.mock(return_value=httpx.Response(200, content=body))
    assert quiet_client.get(TONE, {"coin": "bitcoin"}).status_code == 503
    gdelt.mock(return_value=httpx.Response(200, content=timeline(0.25)))
    assert quiet_client.get(TONE, {"coin": "bitcoin"}).json()["points"][0]["tone"] == 0.25


def test_a_body_over_the_size_cap_is_refused(quiet_client, assets, gdelt, settings):
    settings.NEWS_MAX_FEED_BYTES = 200
    gdelt.mock(return_value=httpx.Response(200, content=timeline(*([1.0] * 50))))
    assert quiet_client.get(TONE, {"coin": "bitcoin"}).status_code == 503


def test_no_match_is_an_empty_series_not_an_error(api_client, assets, gdelt):
    gdelt.mock(return_value=httpx.Response(200, content=b"{}"))  # GDELT's "nothing matched"
    body = api_client.get(TONE, {"coin": "bitcoin"}).json()
    assert body["points"] == [] and body["mean_tone"] is None and body["as_of"]


def test_bad_input_is_named(api_client, assets, gdelt):
    missing = api_client.get(TONE, {"coin": "no-such-coin"})
    assert missing.status_code == 404
    bad = api_client.get(TONE, {"coin": "bitcoin", "timespan": "5y"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "timespan"
    assert api_client.get(TONE).json()["errors"][0]["attr"] == "coin"
    assert gdelt.call_count == 0


def test_news_sentiment_shows_the_kept_tone_beside_ours_without_fetching(api_client, assets, gdelt):
    gdelt.mock(return_value=httpx.Response(200, content=timeline(-2.0, -1.0)))
    before = api_client.get("/api/v1/news/sentiment", {"coin": "bitcoin"}).json()
    assert before["gdelt_tone"] is None and gdelt.call_count == 0
    api_client.get(TONE, {"coin": "bitcoin"})
    after = api_client.get("/api/v1/news/sentiment", {"coin": "bitcoin"}).json()
    assert after["gdelt_tone"]["mean_tone"] == -1.5 and after["gdelt_tone"]["source"] == "gdelt"
    assert "gdelt_tone" not in api_client.get("/api/v1/news/sentiment").json()
    assert gdelt.call_count == 1


def test_the_query_keeps_tickers_gdelt_accepts():
    assert tone_query(name="Bitcoin", symbol="BTC") == '("Bitcoin" OR "BTC")'
    assert tone_query(name="Optimism", symbol="OP") == '"Optimism"'  # GDELT refuses 2 letters
    assert tone_query(name="XRP", symbol="XRP") == '"XRP"'
