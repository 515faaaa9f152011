"""Routes of ``/coingecko/api/v3/`` (CoinGecko's own paths, with or without a trailing slash:
pycoingecko asks for ``coins/bitcoin/``)."""

from django.urls import re_path

from . import views

app_name = "coingecko"

_COIN = r"coins/(?P<coin_id>[^/]+)"
ROUTES = [
    (r"ping", views.ping, "ping"),
    (r"simple/price", views.simple_price, "simple-price"),
    (r"simple/supported_vs_currencies", views.supported_vs_currencies, "simple-supported-vs"),
    (r"coins/list", views.coins_list, "coins-list"),
    (r"coins/markets", views.coins_markets, "coins-markets"),
    (_COIN, views.coin_detail, "coin"),
    (_COIN + r"/history", views.coin_history, "coin-history"),
    (_COIN + r"/market_chart", views.market_chart, "coin-market-chart"),
    (_COIN + r"/market_chart/range", views.market_chart_range, "coin-market-chart-range"),
    (_COIN + r"/ohlc", views.coin_ohlc, "coin-ohlc"),
    (r"global", views.global_, "global"),
    (r"search/trending", views.search_trending, "search-trending"),
    (r"exchange_rates", views.exchange_rates, "exchange-rates"),
]

urlpatterns = [re_path(rf"^{pattern}/?$", view, name=name) for pattern, view, name in ROUTES]
urlpatterns.append(re_path(r"^(?P<rest>.*)$", views.not_found))
