"""Request batching of live price misses: single-flight per coin plus a short batch window."""

from __future__ import annotations

import threading
import time

import pytest

from markets.batching import Batcher

pytestmark = pytest.mark.django_db


def _parallel(n, fn):
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def run(i):
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results, errors


def test_concurrent_requests_for_different_keys_share_one_fetch():
    calls = []

    def fetch(keys):
        calls.append(keys)
        return {k: k.upper() for k in keys}

    b = Batcher("t", fetch, window=lambda: 0.05)
    results, errors = _parallel(20, lambda i: b.get_many([f"c{i}"]))
    assert not errors
    assert results[3] == {"c3": "C3"}
    assert len(calls) <= 2  # 20 requests, one batch (two if a thread came late)
    stats = b.stats()
    assert stats["requests"] == 20 and stats["fetch_calls"] == len(calls)
    assert stats["requests_per_fetch"] >= 10


def test_a_key_being_fetched_is_not_fetched_again_single_flight():
    started, release, calls = threading.Event(), threading.Event(), []

    def fetch(keys):
        calls.append(keys)
        started.set()
        release.wait(5)
        return dict.fromkeys(keys, 1)

    b = Batcher("t", fetch, window=lambda: 0.0)
    first = threading.Thread(target=lambda: b.get_many(["btc"]))
    first.start()
    started.wait(5)
    second_result = {}
    second = threading.Thread(target=lambda: second_result.update(b.get_many(["btc"])))
    second.start()
    time.sleep(0.05)
    release.set()
    first.join(5)
    second.join(5)
    assert calls == [["btc"]] and second_result == {"btc": 1}
    assert b.stats()["shared_keys"] == 1


def test_a_failed_fetch_reaches_every_waiter():
    def fetch(keys):
        raise RuntimeError("store down")

    b = Batcher("t", fetch, window=lambda: 0.05)
    _, errors = _parallel(5, lambda i: b.get_many([f"c{i}"]))
    assert len(errors) == 5 and all(str(e) == "store down" for e in errors)
    assert b.get_many.__self__._inflight == {}  # nothing left behind


def test_prices_misses_go_through_the_batcher(client, monkeypatch):
    from markets import batching, live
    from markets.tests.data_helpers import asset_data, quote, store

    store(
        quote(asset_data("bitcoin", "BTC", 1), 10.0), quote(asset_data("ethereum", "ETH", 2), 2.0)
    )
    monkeypatch.setattr(batching, "_quotes_batcher", None)
    live.reset_price_cache()
    assert (
        client.get("/api/v1/prices", {"ids": "ethereum,bitcoin"}).json()["data"]["bitcoin"]["price"]
        == 10.0
    )
    assert batching.quotes_batcher().stats()["requests"] == 1


def test_batching_stats_is_staff_only_and_reports_the_ratio(api_client, user, staff_user):
    assert api_client.get("/api/v1/rate-limit/batching/stats").status_code == 401
    api_client.force_authenticate(user=user)
    assert api_client.get("/api/v1/rate-limit/batching/stats").status_code == 403
    api_client.force_authenticate(user=staff_user)
    body = api_client.get("/api/v1/rate-limit/batching/stats").json()
    assert body["batchers"][0]["batcher"] == "latest_quotes"
    assert {"requests", "fetch_calls", "requests_per_fetch"} <= set(body["batchers"][0])


def test_batching_figures_are_in_prometheus(client):
    from markets.batching import quotes_batcher

    quotes_batcher().get_many(["nothing-here"])
    text = client.get("/metrics").content.decode()
    assert 'cryptocast_batch_fetch_calls_total{batcher="latest_quotes"}' in text
    assert 'cryptocast_batch_requests_total{batcher="latest_quotes"}' in text
