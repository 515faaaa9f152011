"""The coin report renders as a real three-page PDF (price chart and band, skill vs naive,
news and sentiment), and a coin's backtest as a chart plus its metrics table: read back with
poppler (page count, text) and one page rendered to PNG."""

from __future__ import annotations

import re

import pytest

from forecasts import services

from . import pdf
from .conftest import train_fast

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/coin/{}.pdf"


@pytest.fixture
def issued(coins, artifacts):  # type: ignore[no-untyped-def]
    train_fast("BTC", "naive,drift")
    services.generate_forecasts(symbols="BTC", models="naive,drift,auto", days=3)


def _pages(pdf: bytes) -> int:
    # matplotlib writes page objects uncompressed: count them
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def _article(coin, *, title: str, label: str, score: float, hours_ago: int) -> None:
    """A hand-made stored article about ``coin`` (only its fields matter here)."""
    from datetime import timedelta

    from django.utils import timezone

    from news.models import Article, Source

    source, _ = Source.objects.get_or_create(
        slug="hand", defaults={"name": "Hand Feed", "kind": "rss", "url": "https://example.com/f"}
    )
    at = timezone.now() - timedelta(hours=hours_ago)
    article = Article.objects.create(
        url=f"https://example.com/{hours_ago}",
        source=source,
        title=title,
        published_at=at,
        fetched_at=at,
        sentiment_score=score,
        sentiment_label=label,
        scorer="lexicon",
    )
    article.coins.add(coin)


def test_coin_report_has_chart_skill_and_news_pages(api_client, issued, coins, tmp_path):
    from markets import selectors as market_selectors

    btc = market_selectors.asset_get("bitcoin")
    _article(btc, title="Bitcoin ETF inflows climb", label="positive", score=0.6, hours_ago=2)
    _article(btc, title="Exchange hack hits traders", label="negative", score=-0.5, hours_ago=30)
    response = api_client.get(URL.format("bitcoin"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    body = response.content
    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    assert _pages(body) == pdf.page_count(body) == 3
    assert rb"cryptocast report: Bitcoin \(BTC\)" in body  # the title (PDF escapes parens)
    assert "Model served" in pdf.page_text(body, 1)
    skill = pdf.page_text(body, 2)
    assert "naive" in skill and "relMAE" in skill
    news = pdf.page_text(body, 3)
    assert "recent news and sentiment" in news
    assert "Bitcoin ETF inflows climb" in news and "Hand Feed" in news
    assert "2 articles" in news and "positive 1" in news and "negative 1" in news
    assert pdf.looks_drawn(pdf.render_png(body, 1, tmp_path / "coin1.png"))


def test_report_by_symbol_and_without_forecasts_or_news_still_renders(api_client, coins):
    response = api_client.get(URL.format("ETH"))
    assert response.status_code == 200 and _pages(response.content) == 3
    assert "No stored articles mention this coin." in pdf.page_text(response.content, 3)


def test_backtest_pdf_of_a_coin_charts_each_model_against_naive(api_client, issued, tmp_path):
    response = api_client.get("/api/v1/reports/backtest/BTC.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    body = response.content
    assert pdf.page_count(body) == 2
    assert "cryptocast backtest: Bitcoin (BTC)" in pdf.page_text(body, 1)
    table = pdf.page_text(body, 2)
    assert "drift" in table and "naive" in table and "DM p" in table
    assert pdf.looks_drawn(pdf.render_png(body, 1, tmp_path / "bt1.png"))
    assert api_client.get("/api/v1/reports/backtest/nope.pdf").status_code == 404


def test_unknown_coin_is_a_404_envelope(api_client, coins):
    response = api_client.get(URL.format("nope"))
    assert response.status_code == 404
    assert response.json()["type"] == "client_error"
