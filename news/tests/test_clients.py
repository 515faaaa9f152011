"""Feed clients: bytes through core.http (respx replays the recorded payloads)."""

from __future__ import annotations

import httpx
import pytest
import respx

from core.http import ProviderError
from news.clients import feeds

FEED = "https://feeds.test/rss"


@respx.mock
def test_rss_is_fetched_through_the_shared_layer_with_a_descriptive_user_agent(rss, settings):
    route = respx.get(FEED).mock(
        return_value=httpx.Response(200, content=rss("decrypt_rss_2025-12-12_58items.xml"))
    )
    feed = feeds.fetch_rss(slug="decrypt", url=FEED)
    assert len(feed.items) == 58
    request = route.calls.last.request
    assert request.headers["User-Agent"] == settings.NEWS_USER_AGENT
    assert "rss" in request.headers["Accept"]


@respx.mock
def test_a_body_over_the_size_cap_is_refused(settings):
    settings.NEWS_MAX_FEED_BYTES = 1000
    respx.get(FEED).mock(return_value=httpx.Response(200, content=b"<rss>" + b" " * 5000))
    with pytest.raises(ProviderError, match="larger than 1000 bytes"):
        feeds.fetch_rss(slug="big", url=FEED)


@respx.mock
def test_a_declared_huge_content_length_is_refused_before_reading(settings):
    settings.NEWS_MAX_FEED_BYTES = 1000
    respx.get(FEED).mock(
        return_value=httpx.Response(200, headers={"Content-Length": "99999999"}, content=b"x")
    )
    with pytest.raises(ProviderError, match="larger than"):
        feeds.fetch_rss(slug="huge", url=FEED)


@respx.mock
def test_html_instead_of_xml_is_a_provider_failure():
    respx.get(FEED).mock(return_value=httpx.Response(200, content=b"<html><body>hi</body></html>"))
    with pytest.raises(ProviderError, match="invalid payload"):
        feeds.fetch_rss(slug="html", url=FEED)


@respx.mock
def test_server_errors_are_retried_then_reported(rss):
    route = respx.get(FEED).mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(200, content=rss("coindesk_rss_2026-09-25_3items.xml")),
        ]
    )
    assert len(feeds.fetch_rss(slug="flaky", url=FEED).items) == 3
    assert route.call_count == 2


@respx.mock
def test_repeated_failures_open_the_breaker_of_that_source_only(rss):
    respx.get(FEED).mock(return_value=httpx.Response(500))
    ok = respx.get("https://other.test/rss").mock(
        return_value=httpx.Response(200, content=rss("coindesk_rss_2026-09-25_3items.xml"))
    )
    for _ in range(3):
        with pytest.raises(ProviderError):
            feeds.fetch_rss(slug="broken", url=FEED)
    with pytest.raises(ProviderError, match="circuit open"):
        feeds.fetch_rss(slug="broken", url=FEED)
    assert len(feeds.fetch_rss(slug="healthy", url="https://other.test/rss").items) == 3
    assert ok.called


def test_cryptopanic_without_a_key_is_skipped_cleanly():
    with pytest.raises(feeds.SourceSkipped, match="CRYPTOPANIC_API_KEY"):
        feeds.fetch_cryptopanic(slug="cryptopanic", url="https://cp.test/posts/")


@respx.mock
def test_cryptopanic_with_a_key_sends_it_as_the_api_requires(settings):
    settings.CRYPTOPANIC_API_KEY = "k-123"
    route = respx.get("https://cp.test/posts/").mock(
        return_value=httpx.Response(200, json={"results": []})  # hand-made
    )
    assert feeds.fetch_cryptopanic(slug="cryptopanic", url="https://cp.test/posts/").items == ()
    assert route.calls.last.request.url.params["auth_token"] == "k-123"


@respx.mock
def test_gdelt_asks_for_an_artlist_in_json(gdelt_bytes):
    route = respx.get("https://gdelt.test/doc").mock(
        return_value=httpx.Response(200, content=gdelt_bytes)
    )
    feed = feeds.fetch_gdelt(slug="gdelt", url="https://gdelt.test/doc", query="bitcoin")
    assert len(feed.items) == 250
    params = route.calls.last.request.url.params
    assert params["mode"] == "artlist" and params["format"] == "json"
    assert params["query"] == "bitcoin"


@respx.mock
def test_reddit_listing_is_fetched_with_the_user_agent(settings):
    route = respx.get("https://www.reddit.com/r/Bitcoin/hot.json").mock(
        return_value=httpx.Response(  # hand-made listing
            200, json={"kind": "Listing", "data": {"children": []}}
        )
    )
    feeds.fetch_reddit(slug="reddit-bitcoin", url="https://www.reddit.com/r/Bitcoin/hot.json")
    assert route.calls.last.request.headers["User-Agent"].startswith("cryptocast/")
