"""The coin report renders as a real two-page PDF with the price chart and the skill table."""

from __future__ import annotations

import re

import pytest

from forecasts import services

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


def test_coin_report_is_a_two_page_pdf(api_client, issued):
    response = api_client.get(URL.format("bitcoin"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    body = response.content
    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    assert _pages(body) == 2
    assert rb"cryptocast report: Bitcoin \(BTC\)" in body  # the title (PDF escapes parens)


def test_report_by_symbol_and_without_forecasts_still_renders(api_client, coins):
    response = api_client.get(URL.format("ETH"))
    assert response.status_code == 200 and _pages(response.content) == 2


def test_unknown_coin_is_a_404_envelope(api_client, coins):
    response = api_client.get(URL.format("nope"))
    assert response.status_code == 404
    assert response.json()["type"] == "client_error"
