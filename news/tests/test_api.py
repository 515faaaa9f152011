"""The news API and the crypto aggregator, answering from the recorded feeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from news import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(sample_data: Path, assets):  # type: ignore[no-untyped-def]
    services.news_samples_load(data_dir=sample_data)


def test_news_list_is_newest_first_with_provenance_and_cursor_pages(api_client, loaded):
    r = api_client.get("/api/v1/news", {"page_size": 5})
    assert r.status_code == 200
    body = r.json()
    items = body["results"]
    assert len(items) == 5 and body["next"]
    times = [i["published_at"] for i in items]
    assert times == sorted(times, reverse=True)
    first = items[0]
    assert {
        "source",
        "url",
        "published_at",
        "fetched_at",
        "coins",
        "sentiment",
        "cluster_size",
    } <= set(first)
    assert first["sentiment"]["scorer"] == "cryptolin-charlr@1"
    page2 = api_client.get(body["next"]).json()["results"]
    assert not {i["id"] for i in items} & {i["id"] for i in page2}


def test_news_list_query_count_does_not_grow_with_the_page(
    api_client, loaded, django_assert_num_queries
):
    with django_assert_num_queries(2):  # articles+source+cluster, then coins
        api_client.get("/api/v1/news", {"page_size": 5})
    with django_assert_num_queries(2):
        api_client.get("/api/v1/news", {"page_size": 100})


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"coin": "bitcoin"}, lambda i: "bitcoin" in i["coins"]),
        ({"source": "theblock"}, lambda i: i["source"] == "theblock"),
        ({"sentiment": "negative"}, lambda i: i["sentiment"]["label"] == "negative"),
        ({"q": "tether"}, lambda i: "tether" in (i["title"] + i["summary"]).lower()),
        ({"since": "2026-01-01T00:00:00Z"}, lambda i: i["published_at"] >= "2026"),
        ({"until": "2025-12-01T00:00:00Z"}, lambda i: i["published_at"] < "2025-12-01"),
    ],
)
def test_news_filters(api_client, loaded, params, check):
    r = api_client.get("/api/v1/news", {**params, "page_size": 200})
    assert r.status_code == 200
    items = r.json()["results"]
    assert all(check(i) for i in items)
    if "until" not in params:
        assert items


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"sentiment": "great"}, "sentiment"),
        ({"since": "yesterday"}, "since"),
        ({"coin": "Bit Coin!"}, "coin"),
        ({"q": "x" * 101}, "q"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(api_client, db, params, attr):
    r = api_client.get("/api/v1/news", params)
    assert r.status_code == 400
    assert r.json()["errors"][0]["attr"] == attr


def test_page_size_is_bounded(api_client, loaded):
    r = api_client.get("/api/v1/news", {"page_size": 100000})
    assert len(r.json()["results"]) == 135  # all of them, but never more than 200


def test_sources_show_health_and_articles_per_day(api_client, loaded):
    sources = {s["slug"]: s for s in api_client.get("/api/v1/news/sources").json()["sources"]}
    assert sources["decrypt"]["articles"] == 58
    assert sources["decrypt"]["healthy"] is True
    # per day over the 7 days before the newest stored article (2026-09-25: 3 CoinDesk items)
    assert sources["coindesk"]["articles_per_day"] == round(3 / 7, 2)
    assert sources["decrypt"]["articles_per_day"] == 0
    assert sources["bitcoinmagazine"]["healthy"] is False  # never polled
    assert sources["cryptopanic"]["kind"] == "cryptopanic"


def test_trending_compares_with_the_previous_window(api_client, loaded):
    body = api_client.get("/api/v1/news/trending", {"window": "24h"}).json()
    assert body["window_end"] == "2026-09-25T14:41:53Z"  # the newest stored article
    assert body["articles"] == 3
    body = api_client.get("/api/v1/news/trending", {"window": "30d"}).json()
    coins = {c["coin"]: c for c in body["coins"]}
    assert coins  # 30 d before the newest article: the December 2025 feeds are outside...
    assert api_client.get("/api/v1/news/trending", {"window": "2y"}).status_code == 400


def test_sentiment_overall_and_per_coin(api_client, loaded):
    body = api_client.get("/api/v1/news/sentiment", {"window": "30d"}).json()
    o = body["overall"]
    assert o["count"] == o["positive"] + o["neutral"] + o["negative"]
    assert body["scorer"] == "cryptolin-charlr@1"
    assert body["source"] == "stored articles" and body["as_of"]
    r = api_client.get("/api/v1/news/sentiment", {"coin": "BAD COIN"})
    assert r.status_code == 400 and r.json()["errors"][0]["attr"] == "coin"


def test_stats_count_fetched_stored_and_duplicates(api_client, sample_data, assets):
    services.news_samples_load(data_dir=sample_data)
    services.news_samples_load(data_dir=sample_data)
    body = api_client.get("/api/v1/news/stats").json()
    assert (body["fetched"], body["stored"], body["duplicates"]) == (270, 135, 135)
    assert {s["source"] for s in body["sources"]} == {
        "coindesk",
        "cointelegraph",
        "decrypt",
        "theblock",
    }


def test_impact_says_plainly_when_nothing_aligns(api_client, loaded):
    body = api_client.get("/api/v1/news/impact", {"coin": "bitcoin"}).json()
    assert body["articles"] > 0 and body["aligned"] == 0  # feeds are after the stored candles
    assert "nothing to align" in body["verdict"]
    assert api_client.get("/api/v1/news/impact", {"coin": "nope"}).status_code == 404
    assert api_client.get("/api/v1/news/impact").json()["errors"][0]["attr"] == "coin"


def test_score_endpoint_uses_the_pipeline_scorer(api_client, db):
    r = api_client.post(
        "/api/v1/news/sentiment/score",
        {"texts": ["Bitcoin soars to a record high", "Exchange hacked, $100 million stolen"]},
        format="json",
    )
    assert r.status_code == 200
    body = r.json()
    assert (body["scorer"], body["version"]) == ("cryptolin-charlr", "1")
    labels = [x["label"] for x in body["results"]]
    assert labels == ["positive", "negative"]
    assert all(-1 <= x["score"] <= 1 for x in body["results"])


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"texts": ["a"] * 101}, "texts"),
        ({"texts": ["x" * 1001]}, "texts.0"),
        ({"texts": []}, "texts"),
        ({"texts": "not a list"}, "texts"),
        ({}, "texts"),
    ],
)
def test_score_endpoint_bounds(api_client, db, payload, attr):
    r = api_client.post("/api/v1/news/sentiment/score", payload, format="json")
    assert r.status_code == 400
    assert r.json()["errors"][0]["attr"] == attr


@pytest.mark.parametrize(
    ("path", "keys"),
    [
        ("/api/v1/crypto/dashboard", {"prices", "market_summary", "news", "sentiment", "trending"}),
        ("/api/v1/crypto/news", {"news"}),
        ("/api/v1/crypto/sentiment", {"sentiment"}),
        ("/api/v1/crypto/prices", {"prices"}),
        ("/api/v1/crypto/market-summary", {"market_summary"}),
        ("/api/v1/crypto/real-social", {"social"}),
        ("/api/v1/crypto/sources", {"sources", "unavailable"}),
    ],
)
def test_aggregator_endpoints_answer_from_stored_data(api_client, loaded, path, keys):
    r = api_client.get(path)
    assert r.status_code == 200
    assert keys <= set(r.json())
    assert r.json()["generated_at"]


def test_aggregator_prices_carry_source_and_age(api_client, loaded):
    from django.utils import timezone

    from markets.models import Asset, Quote

    asset = Asset.objects.get(pk="bitcoin")
    now = timezone.now()
    q = Quote.objects.create(asset=asset, price=1.0, source="coingecko", as_of=now, fetched_at=now)
    Asset.objects.filter(pk="bitcoin").update(latest_quote=q)
    prices = api_client.get("/api/v1/crypto/prices").json()["prices"]
    assert prices[0]["source"] == "coingecko" and prices[0]["as_of"] and prices[0]["stale"] is False


def test_twitter_is_an_honest_503_in_the_envelope(api_client, db):
    r = api_client.get("/api/v1/crypto/twitter")
    assert r.status_code == 503
    assert r["Retry-After"]
    body = r.json()
    assert body["errors"][0]["code"] == "source_unavailable"
    assert "Nitter" in body["errors"][0]["detail"]
    sources = api_client.get("/api/v1/crypto/sources").json()
    assert sources["unavailable"][0]["slug"] == "twitter"


def test_since_with_an_offset_postgresql_cannot_store_is_the_same_instant_in_utc(
    api_client, loaded
):  # type: ignore[no-untyped-def]
    """Found by the fuzzer on PostgreSQL: ``+18:14`` is a valid ISO offset for Python but out
    of PostgreSQL's range (a 500)."""
    odd = api_client.get("/api/v1/news", {"since": "2025-12-01T18:14:00+18:14"})
    utc = api_client.get("/api/v1/news", {"since": "2025-12-01T00:00:00Z"})
    assert odd.status_code == 200, odd.content[:300]
    assert [i["id"] for i in odd.json()["results"]] == [i["id"] for i in utc.json()["results"]]
