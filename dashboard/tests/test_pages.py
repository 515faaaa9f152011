"""Dashboard pages render server-side (readable without JavaScript) with provenance."""

from __future__ import annotations

import pytest

from dashboard.views import skill_in_words
from markets.tests.data_helpers import asset_data, make_asset, make_candles, quote, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def btc(db):  # type: ignore[no-untyped-def]
    asset = make_asset("bitcoin", "BTC", 1)
    make_candles(asset, range(5))
    store(quote(asset_data("bitcoin", "BTC", 1), 94_000.0, source="replay"))
    return asset


@pytest.mark.smoke
def test_markets_page_lists_prices_with_source_and_age_without_javascript(client, btc):
    html = client.get("/").content.decode()
    assert 'data-id="bitcoin"' in html and "94,000.00" in html
    assert "replay" in html and "s ago" in html
    assert "/static/js/dashboard.js" in html
    assert "https://" not in html.replace("https://www.tradingview.com/", "")  # no CDN


def test_coin_page_shows_price_provenance_coverage_and_the_vendored_chart(client, btc):
    html = client.get("/coins/bitcoin").content.decode()
    assert "Bitcoin" in html and "94,000.00" in html and "source <strong>replay</strong>" in html
    assert "Data coverage" in html and "100.0%" in html
    assert "/static/vendor/lightweight-charts-4.2.3/" in html
    assert "No forecast has been issued for Bitcoin yet." in html


def test_coin_page_by_symbol_and_unknown_coin(client, btc):
    assert client.get("/coins/btc").status_code == 200
    assert client.get("/coins/not-a-coin").status_code == 404


def test_vendored_chart_library_and_its_license_are_served(client):
    base = "/static/vendor/lightweight-charts-4.2.3/"
    js = client.get(base + "lightweight-charts.standalone.production.js")
    assert js.status_code == 200
    license_response = client.get(base + "LICENSE")
    assert license_response.status_code == 200
    assert int(license_response["Content-Length"]) > 10_000  # the Apache-2.0 text


def _forecast(model: str, rel: float | None) -> dict:
    return {
        "model": model,
        "points": [{"date": "2026-12-03"}],
        "skill": {"rel_mae": rel, "coverage": {"80": 0.81, "95": 0.95}},
        "fallback": None,
    }


def test_skill_is_said_in_words_against_naive():
    assert "naive forecast" in skill_in_words(_forecast("naive", 1.0), "Bitcoin")[0]
    worse = skill_in_words(_forecast("ets", 1.004), "Bitcoin")[0]
    assert "no better than" in worse and "tomorrow = today" in worse
    better = skill_in_words(_forecast("lstm", 0.98), "Bitcoin")[0]
    assert "2.0% smaller" in better and "rarely significant" in better
    assert "80% band held the price 81%" in skill_in_words(_forecast("ets", 1.0), "Bitcoin")[1]
    assert skill_in_words({"points": []}, "Bitcoin") == [
        "No forecast has been issued for Bitcoin yet."
    ]


@pytest.mark.parametrize("path", ["/redoc", "/docs"])
def test_api_docs_pages_load_nothing_from_another_host(client, path):
    # drf-spectacular's own redoc.html loads Google Fonts; ours (templates/drf_spectacular/)
    # does not, and both docs pages take their scripts from the sidecar under /static/.
    html = client.get(path).content.decode()
    assert "googleapis" not in html and "gstatic" not in html
    assert 'src="http' not in html and 'href="http' not in html


def test_coin_page_lists_the_coins_news_with_source_and_sentiment(client, btc):
    from django.utils import timezone

    from news.models import Article, Source

    # Hand-made article: only its fields matter here.
    source = Source.objects.create(
        slug="hand", name="Hand Feed", kind="rss", url="https://example.com/feed"
    )
    now = timezone.now()
    article = Article.objects.create(
        url="https://example.com/a",
        source=source,
        title="Bitcoin climbs",
        published_at=now,
        fetched_at=now,
        sentiment_score=0.6,
        sentiment_label="positive",
        scorer="lexicon",
    )
    article.coins.add(btc)
    html = client.get("/coins/bitcoin").content.decode()
    assert "Bitcoin climbs" in html and "Hand Feed" in html
    assert "sentiment-positive" in html and "by lexicon" in html
