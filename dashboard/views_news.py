"""The news page: the article stream with filters, trending coins and topics, sentiment."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from news import selectors as news_selectors

from .charts import sentiment_chart

PAGE_SIZE = 25
SENTIMENTS = ("positive", "neutral", "negative")
TREND_WINDOWS = ("24h", "7d", "30d")


def _clean(value: str | None, allowed: set[str] | tuple[str, ...]) -> str:
    return value if value in allowed else ""


def news_page(request: HttpRequest) -> HttpResponse:
    sources = news_selectors.source_list()
    window = _clean(request.GET.get("window"), TREND_WINDOWS) or "7d"
    trending = news_selectors.trending(window=window, limit=10)
    coin = (request.GET.get("coin") or "").strip()[:64]
    filters = {
        "coin": coin,
        "source": _clean(request.GET.get("source"), {s["slug"] for s in sources}),
        "sentiment": _clean(request.GET.get("sentiment"), SENTIMENTS),
        "q": (request.GET.get("q") or "").strip()[:100],
    }
    articles = news_selectors.article_list_filtered(**{k: v or None for k, v in filters.items()})
    page = Paginator(articles, PAGE_SIZE).get_page(request.GET.get("page"))
    # Same story from several outlets: the first article of a cluster on this page carries the
    # others beneath it, so a story covered five times is one entry, not five.
    items: list[dict] = []
    by_cluster: dict[int, dict] = {}
    for a in page.object_list:
        if a.cluster_id and a.cluster_id in by_cluster:
            by_cluster[a.cluster_id]["also"].append(a)
            continue
        entry = {"article": a, "also": []}
        if a.cluster_id:
            by_cluster[a.cluster_id] = entry
        items.append(entry)
    series = news_selectors.sentiment_by_day(days=30, coin=coin or None)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "dashboard/news.html",
        {
            "items": items,
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "sources": sources,
            "sentiments": SENTIMENTS,
            "trending": trending,
            "window": window,
            "windows": TREND_WINDOWS,
            "coins": [c["coin"] for c in trending["coins"]],
            "series": series,
            "chart": sentiment_chart(series["days"]),
            "overview": news_selectors.sentiment_overview(window=window, limit=0),
        },
    )
