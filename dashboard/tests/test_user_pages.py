"""News, forecasts, watchlist, alert and notification pages (server-rendered, no JavaScript)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from markets.tests.data_helpers import asset_data, make_asset, make_candles, quote, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def btc(db):  # type: ignore[no-untyped-def]
    asset = make_asset("bitcoin", "BTC", 1)
    make_candles(asset, range(3))
    store(quote(asset_data("bitcoin", "BTC", 1), 94_000.0, source="replay"))
    make_asset("ethereum", "ETH", 2)
    return asset


@pytest.fixture
def signed_in(client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client


@pytest.fixture
def other(django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user(
        email="bob@example.com", password="correct-horse-battery-9"
    )


def _articles(btc):  # type: ignore[no-untyped-def]
    from news.models import Article, Source, StoryCluster

    src = Source.objects.create(slug="coindesk", name="CoinDesk", kind="rss", url="https://x.test/")
    src2 = Source.objects.create(slug="decrypt", name="Decrypt", kind="rss", url="https://y.test/")
    now = datetime.now(UTC)
    story = StoryCluster.objects.create(fingerprint="f", title="ETF", first_seen_at=now, size=2)
    rows = [
        ("Bitcoin ETF approved, bitcoin rallies", src, "positive", 0.7, now, story),
        ("Bitcoin ETF approval confirmed", src2, "positive", 0.5, now - timedelta(hours=1), story),
        ("Exchange hacked, bitcoin slides", src, "negative", -0.6, now - timedelta(days=2), None),
    ]
    for i, (title, s, label, score, at, cluster) in enumerate(rows):
        a = Article.objects.create(
            url=f"https://x.test/{i}",
            source=s,
            title=title,
            published_at=at,
            fetched_at=at,
            sentiment_score=score,
            sentiment_label=label,
            scorer="test-scorer",
            cluster=cluster,
        )
        a.coins.add(btc)


# --- news -------------------------------------------------------------------------------------
def test_news_page_lists_articles_with_tags_sentiment_clusters_and_a_server_drawn_chart(
    client, btc
):
    _articles(btc)
    html = client.get("/news").content.decode()
    assert "Bitcoin ETF approved" in html and "Exchange hacked" in html
    assert 'href="/news?coin=bitcoin"' in html  # coin tag
    assert "positive 0.70" in html and "by test-scorer" in html
    assert "story · 2 articles" in html and "Also:" in html  # the cluster's second outlet
    assert html.count('class="article"') == 2  # the duplicate story folds into one entry
    assert '<svg class="sentiment-chart"' in html and html.count('<rect class="bar') == 2
    assert "source: stored articles" in html and "scorer test-scorer" in html
    assert "Trending" in html and "bitcoin" in html
    assert "style=" not in html and "onclick" not in html


def test_news_filters_by_sentiment_source_and_coin_and_ignores_unknown_values(client, btc):
    _articles(btc)
    html = client.get("/news?sentiment=negative").content.decode()
    assert "Exchange hacked" in html and "Bitcoin ETF approved" not in html
    html = client.get("/news?source=decrypt").content.decode()
    assert "ETF approval confirmed" in html and "Exchange hacked" not in html
    assert "No articles match" in client.get("/news?coin=ethereum").content.decode()
    assert client.get("/news?sentiment=angry&source=nope&window=1y").status_code == 200


# --- forecasts --------------------------------------------------------------------------------
def test_forecasts_page_without_models_says_so(client, btc, settings, tmp_path):
    settings.DASHBOARD_BACKTEST_PLOTS_DIR = str(tmp_path)
    html = client.get("/forecasts").content.decode()
    assert "No model has been trained" in html and "No plots found" in html


def test_forecasts_report_card_states_skill_against_naive_honestly(
    client, btc, monkeypatch, settings, tmp_path
):
    from forecasts import selectors

    (tmp_path / "backtest-btc.png").write_bytes(b"\x89PNG\r\n")
    settings.DASHBOARD_BACKTEST_PLOTS_DIR = str(tmp_path)
    bt = {
        "n": 365,
        "rel_mae": 0.998,
        "skill": False,
        "dm_p_better": 0.31,
        "directional_accuracy": 0.524,
        "da_ci_low": 0.508,
        "da_ci_high": 0.54,
        "da_baseline": 0.493,
        "coverage": {"80": 0.81, "95": 0.95},
        "version": "v1",
    }
    naive = dict(bt, rel_mae=1.0, version="builtin")
    entries = [
        {"model": "naive", "horizon": 1, "backtest": naive, "live": None},
        {
            "model": "lstm",
            "horizon": 1,
            "backtest": bt,
            "live": {
                "n": 12,
                "mae": 900.0,
                "mape": 1.1,
                "rel_mae_vs_naive": 1.04,
                "paired_with_naive": 12,
                "coverage": {"80": 0.75, "95": 0.92},
            },
        },
    ]
    monkeypatch.setattr(selectors, "assets_with_forecasts", lambda **kw: [btc])
    monkeypatch.setattr(
        selectors,
        "performance",
        lambda **kw: [{"id": "bitcoin", "symbol": "BTC", "entries": entries}],
    )
    html = client.get("/forecasts?coin=bitcoin").content.decode()
    assert "No model beats naive significantly on Bitcoin" in html
    assert "0.2% smaller errors than naive, not significant (DM p = 0.31)" in html
    assert "0.524 [0.508–0.540]" in html and "beats baseline" in html
    assert "12" in html and "1.040" in html  # live accuracy from the archive
    assert 'src="/forecasts/plots/backtest-btc.png"' in html
    assert client.get("/forecasts/plots/backtest-btc.png")["Content-Type"] == "image/png"
    assert client.get("/forecasts/plots/..%2Fsecret.png").status_code == 404
    assert client.get("/forecasts/plots/other.png").status_code == 404


# --- sign-in, ownership -----------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/watchlists", "/alerts", "/alerts/1", "/notifications"])
def test_anonymous_visitors_are_sent_to_the_signin_page(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/signin?next={path}"


def test_coin_page_prompts_sign_in_or_offers_watch_and_alert(client, signed_in, btc):
    from django.test import Client

    anon = Client().get("/coins/bitcoin").content.decode()
    assert 'href="/signin?next=/coins/bitcoin"' in anon and "Add to watchlist" not in anon
    html = signed_in.get("/coins/bitcoin").content.decode()
    assert "Add to watchlist" in html and "Set alert" in html
    assert 'value="94000.00"' in html  # the alert's price starts at the current price


def test_watchlist_create_add_from_coin_page_edit_remove_and_delete(signed_in, user, btc):
    from alerts import selectors

    r = signed_in.post("/watchlists", {"name": "Majors", "coins": "BTC, eth"})
    assert r.status_code == 302
    [w] = selectors.watchlist_list(user=user)
    assert [i.asset_id for i in w.items.all()] == ["bitcoin", "ethereum"]
    html = signed_in.get("/watchlists").content.decode()
    assert "Majors" in html and "94,000.00" in html and "replay" in html

    r = signed_in.post(
        "/watchlists/add",
        {"coin": "bitcoin", "watchlist": "new", "new_name": "Mine", "next": "/coins/bitcoin"},
    )
    assert r["Location"] == "/coins/bitcoin"
    assert "Added bitcoin to “Mine”" in signed_in.get("/coins/bitcoin").content.decode()

    signed_in.post(f"/watchlists/{w.pk}", {"name": "Big two", "coins": "ethereum"})
    w = selectors.watchlist_get(user=user, pk=w.pk)
    assert w.name == "Big two" and [i.asset_id for i in w.items.all()] == ["ethereum"]
    signed_in.post(f"/watchlists/{w.pk}/remove", {"coin": "ethereum"})
    assert selectors.watchlist_get(user=user, pk=w.pk).items.count() == 0
    signed_in.post(f"/watchlists/{w.pk}/delete")
    assert [x.name for x in selectors.watchlist_list(user=user)] == ["Mine"]


def test_watchlist_errors_are_the_services_words(signed_in, btc):
    r = signed_in.post("/watchlists", {"name": "X", "coins": "bitcoin, notacoin"})
    assert r.status_code == 400 and "Unknown coin(s): notacoin." in r.content.decode()
    r = signed_in.post(
        "/watchlists/add", {"coin": "bitcoin", "watchlist": "new", "next": "https://evil.test/"}
    )
    assert r["Location"] == "/watchlists"  # never redirected off the site


def test_alert_create_pause_resume_edit_and_delete(signed_in, user, btc):
    from alerts import selectors

    r = signed_in.post(
        "/alerts", {"coin": "BTC", "kind": "crosses_above", "value": "100000", "trigger": "once"}
    )
    assert r.status_code == 302
    [a] = selectors.alert_list(user=user)
    assert (a.asset_id, a.kind, a.params, a.trigger) == (
        "bitcoin",
        "crosses_above",
        {"value": 100000.0},
        "once",
    )
    html = signed_in.get("/alerts").content.decode()
    assert "bitcoin: price crosses above 100,000" in html and "not evaluated yet" in html
    signed_in.post(f"/alerts/{a.pk}/status", {"status": "paused"})
    assert selectors.alert_get(user=user, pk=a.pk).status == "paused"
    signed_in.post(f"/alerts/{a.pk}/status", {"status": "active"})
    assert selectors.alert_get(user=user, pk=a.pk).status == "active"
    r = signed_in.post(
        f"/alerts/{a.pk}",
        {
            "kind": "pct_move",
            "percent": "5",
            "window": "24h",
            "direction": "up",
            "trigger": "every_time",
        },
    )
    assert r.status_code == 302
    a = selectors.alert_get(user=user, pk=a.pk)
    assert a.params == {"window": "24h", "direction": "up", "percent": 5.0}
    signed_in.post(f"/alerts/{a.pk}/delete")
    assert not selectors.alert_list(user=user).exists()


def test_alert_form_errors_name_the_field(signed_in, btc):
    r = signed_in.post("/alerts", {"coin": "bitcoin", "kind": "crosses_above", "trigger": "once"})
    assert r.status_code == 400
    html = r.content.decode()
    assert re.search(r"id_value.*?A finite number is required\.", html, re.S)
    r = signed_in.post(
        "/alerts", {"coin": "nope", "kind": "crosses_above", "value": "1", "trigger": "once"}
    )
    assert "Unknown coin: nope." in r.content.decode()


def test_another_users_objects_are_404(signed_in, other, btc):
    from alerts import services

    w = services.watchlist_create(user=other, name="theirs", coins=["bitcoin"])
    a = services.alert_create(
        user=other, asset_id="bitcoin", kind="crosses_above", params={"value": 1}
    )
    for path in (
        f"/watchlists/{w.pk}",
        f"/watchlists/{w.pk}/delete",
        f"/watchlists/{w.pk}/remove",
        f"/alerts/{a.pk}/status",
        f"/alerts/{a.pk}/delete",
    ):
        assert signed_in.post(path, {"name": "mine", "status": "paused"}).status_code == 404, path
    assert signed_in.get(f"/alerts/{a.pk}").status_code == 404
    r = signed_in.post("/watchlists/add", {"coin": "bitcoin", "watchlist": str(w.pk)})
    assert r.status_code == 404
    assert (
        signed_in.post(
            "/alerts",
            {"watchlist": str(w.pk), "kind": "crosses_above", "value": "1", "trigger": "once"},
        ).status_code
        == 404
    )
    a.refresh_from_db()
    assert a.status == "active"


def test_notifications_list_badge_and_mark_read(signed_in, user, btc):
    from alerts.models import Notification

    now = datetime.now(UTC)
    n = Notification.objects.create(
        user=user,
        title="bitcoin crossed 100,000",
        body="price 100,250",
        created_at=now,
        data={"coin": "bitcoin", "source": "replay", "as_of": now.isoformat()},
    )
    html = signed_in.get("/notifications").content.decode()
    assert "bitcoin crossed 100,000" in html and "source replay" in html
    assert re.search(r'id="notif-badge"[^>]*data-unread="1"', html)
    assert "/static/js/notifications.js" in html
    signed_in.post(f"/notifications/{n.pk}/read")
    n.refresh_from_db()
    assert n.read_at is not None
    assert 'data-unread="0"' in signed_in.get("/notifications").content.decode()


def test_markets_page_says_when_every_price_is_stale(client, db):
    asset = make_asset("bitcoin", "BTC", 1)
    old = datetime.now(UTC) - timedelta(hours=3)
    store(quote(asset_data("bitcoin", "BTC", 1), 94_000.0, source="replay", as_of=old))
    assert asset
    html = client.get("/").content.decode()
    assert re.search(r'id="feed-banner"[^>]*role="status">Prices are stale', html)
