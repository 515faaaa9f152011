"""API routes of `news`, mounted under `/api/v1/` by `config.urls`."""

from django.urls import path

from . import apis

urlpatterns = [
    path("news", apis.NewsListApi.as_view(), name="news-list"),
    path("news/sources", apis.NewsSourcesApi.as_view(), name="news-sources"),
    path("news/trending", apis.NewsTrendingApi.as_view(), name="news-trending"),
    path("news/sentiment", apis.NewsSentimentApi.as_view(), name="news-sentiment"),
    path("news/sentiment/score", apis.SentimentScoreApi.as_view(), name="news-sentiment-score"),
    path("news/tone", apis.NewsToneApi.as_view(), name="news-tone"),
    path("news/stats", apis.NewsStatsApi.as_view(), name="news-stats"),
    path("news/impact", apis.NewsImpactApi.as_view(), name="news-impact"),
    path("news/refresh", apis.NewsRefreshApi.as_view(), name="news-refresh"),
    path("crypto/dashboard", apis.CryptoDashboardApi.as_view(), name="crypto-dashboard"),
    path("crypto/news", apis.CryptoNewsApi.as_view(), name="crypto-news"),
    path("crypto/sentiment", apis.CryptoSentimentApi.as_view(), name="crypto-sentiment"),
    path("crypto/prices", apis.CryptoPricesApi.as_view(), name="crypto-prices"),
    path("crypto/market-summary", apis.CryptoMarketSummaryApi.as_view(), name="crypto-market"),
    path("crypto/real-social", apis.CryptoRealSocialApi.as_view(), name="crypto-real-social"),
    path("crypto/sources", apis.CryptoSourcesApi.as_view(), name="crypto-sources"),
    path("crypto/twitter", apis.CryptoTwitterApi.as_view(), name="crypto-twitter"),
]
