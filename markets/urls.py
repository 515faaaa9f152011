"""API routes of `markets`, mounted under `/api/v1/` by `config.urls`.

`urls_data` serves stored data (assets, candles, coverage, ETL jobs); `urls_live` serves
cache-first prices and provider operations (rate limits, data-source health).
"""

from django.urls import include, path

# Live first: the cache-first price reads are the hottest routes, and the resolver tries
# patterns in order (the two modules share no path).
urlpatterns = [
    path("", include("markets.urls_live")),
    path("", include("markets.urls_data")),
]
