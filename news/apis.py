"""DRF views of `news` and the seed's crypto aggregator: parse, authorise, call, serialise."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from core.errors import ServiceUnavailable, envelope
from core.http import ProviderError
from core.pagination import BoundedCursorPagination
from markets import selectors as market_selectors

from . import selectors, services
from .clients.crawl import UnsafeUrl
from .filters import ArticleFilter
from .sentiment.scorer import get_model
from .serializers import (
    ArticleSerializer,
    ImpactQuerySerializer,
    RefreshRequestSerializer,
    RefreshResponseSerializer,
    ScoreRequestSerializer,
    ScoreResponseSerializer,
    SentimentQuerySerializer,
    ToneQuerySerializer,
    WindowQuerySerializer,
)

TAGS = ["news"]
AGG = ["crypto aggregator"]


def _query(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    s = serializer_class(data=request.query_params)
    s.is_valid(raise_exception=True)
    return s.validated_data


class NewsPagination(BoundedCursorPagination):
    page_size = 50
    max_page_size = 200
    ordering = ("-published_at", "-id")


@extend_schema(tags=TAGS, summary="Stored articles (filters, newest first, cursor pages)")
class NewsListApi(generics.ListAPIView):
    serializer_class = ArticleSerializer
    pagination_class = NewsPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = ArticleFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.article_list()


class NewsSourcesApi(APIView):
    @extend_schema(
        tags=TAGS, summary="Sources with health and articles per day", responses=OpenApiTypes.OBJECT
    )
    def get(self, request: Request) -> Response:
        return Response({"sources": selectors.source_list(), "as_of": timezone.now()})


class NewsTrendingApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Coins and topics rising in mentions vs the previous window",
        parameters=[WindowQuerySerializer],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.trending(**_query(WindowQuerySerializer, request)))


class NewsSentimentApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Sentiment overall and per coin, with the trend",
        parameters=[SentimentQuerySerializer],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        q = _query(SentimentQuerySerializer, request)
        body = selectors.sentiment_overview(**q)
        if q.get("coin"):  # GDELT's tone beside ours, only when already fetched (never waits)
            body["gdelt_tone"] = services.gdelt_tone_cached(coin=q["coin"])
        return Response(body)


class NewsToneApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="A coin's news tone over time from GDELT (timelinetone), cached with provenance",
        description="GDELT DOC 2.0 `mode=timelinetone` for the coin's name (and ticker): "
        "`points` of `{time, tone}` on GDELT's own scale (about -10..+10), `source`, `as_of` "
        "(the newest point), `fetched_at`, `stale`. Re-fetched after "
        "NEWS_GDELT_TONE_FRESH_SECONDS; while GDELT is unreachable the last series is served "
        "with `stale: true` and `fallback_reason`; with none kept, 503 with Retry-After.",
        parameters=[ToneQuerySerializer],
        responses={
            200: OpenApiTypes.OBJECT,
            503: OpenApiResponse(description="GDELT unreachable and no series kept"),
        },
    )
    def get(self, request: Request) -> Response:
        q = _query(ToneQuerySerializer, request)
        try:
            return Response(services.gdelt_tone(**q))
        except market_selectors.AssetNotFound as exc:
            raise NotFound(str(exc)) from exc
        except services.ToneUnavailable as exc:
            wait = int(exc.retry_after) + 1 if exc.retry_after else 60
            raise ServiceUnavailable(
                f"GDELT tone is unavailable ({exc.reason}); try again later.", retry_after=wait
            ) from exc


class NewsStatsApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Pipeline figures: fetched, stored, duplicates, per source",
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.pipeline_stats())


class NewsImpactApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Price move after articles, event study per sentiment",
        parameters=[ImpactQuerySerializer],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        q = _query(ImpactQuerySerializer, request)
        try:
            return Response(selectors.news_impact(**q))
        except market_selectors.AssetNotFound as exc:
            raise NotFound(str(exc)) from exc


class SentimentScoreApi(APIView):
    """The pipeline's own scorer, so anyone can check it on their own labelled headlines."""

    @extend_schema(
        tags=TAGS,
        summary="Score up to 100 texts (label and score in [-1, 1])",
        request=ScoreRequestSerializer,
        responses=ScoreResponseSerializer,
    )
    def post(self, request: Request) -> Response:
        s = ScoreRequestSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        model = get_model()
        results = []
        for text in s.validated_data["texts"]:
            v = model.score(text)
            results.append(
                {"text": text, "label": v.label, "score": v.score, "probabilities": v.probabilities}
            )
        return Response({"scorer": model.name, "version": model.version, "results": results})


class CrawlThrottle(UserRateThrottle):
    scope = "news_refresh"
    rate = "10/min"


class NewsRefreshApi(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [CrawlThrottle]

    @extend_schema(
        tags=TAGS,
        summary="Crawl one article URL (SSRF-checked) and store it",
        request=RefreshRequestSerializer,
        responses={
            200: RefreshResponseSerializer,
            201: RefreshResponseSerializer,
            503: OpenApiResponse(description="The page could not be fetched now (Retry-After)"),
        },
    )
    def post(self, request: Request) -> Response:
        s = RefreshRequestSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            article, created, page = services.article_crawl(url=s.validated_data["url"])
        except UnsafeUrl as exc:
            raise ValidationError({"url": [str(exc)]}) from exc
        except ProviderError as exc:
            if exc.status is None and not exc.retryable and exc.retry_after is None:
                raise ValidationError({"url": [f"could not use the page: {exc.reason}"]}) from exc
            raise ServiceUnavailable(
                f"fetch failed: {exc.reason}", retry_after=int(exc.retry_after or 30)
            ) from exc
        article = selectors.article_list().get(pk=article.pk)
        data = {
            "created": created,
            "article": ArticleSerializer(article).data,
            "crawl": {"extractor": page.extractor, "fallback_reason": page.fallback_reason},
        }
        return Response(data, status=201 if created else 200)


# --- the seed's crypto aggregator (all from stored data, with provenance) ---------------------


def _prices(limit: int = 10) -> list[dict[str, Any]]:
    now = timezone.now()
    return [
        {
            "id": q.asset_id,
            "symbol": q.asset.symbol,
            "name": q.asset.name,
            "price": q.price,
            "market_cap": q.market_cap,
            "volume_24h": q.volume_24h,
            "change_24h": q.change_24h,
            "source": q.source,
            "as_of": q.as_of,
            "fetched_at": q.fetched_at,
            "stale": market_selectors.quote_is_stale(q, now=now),
            "fallback_reason": q.fallback_reason,
        }
        for q in market_selectors.latest_quotes(top=limit)
    ]


def _market_summary() -> dict[str, Any]:
    g = market_selectors.global_market_from_db()
    return {
        "total_market_cap": g.total_market_cap,
        "total_volume_24h": g.total_volume_24h,
        "assets": g.assets,
        "dominance": g.dominance,
        "market_cap_change_24h": g.market_cap_change_24h,
        "source": ", ".join(g.sources) or None,
        "as_of": g.as_of,
        "fetched_at": g.fetched_at,
    }


def _news(limit: int = 10, kinds: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    qs = selectors.article_list()
    if kinds:
        qs = qs.filter(source__kind__in=kinds)
    return list(ArticleSerializer(qs[:limit], many=True).data)


class _Agg(APIView):
    def _ok(self, body: dict[str, Any]) -> Response:
        return Response({**body, "generated_at": timezone.now()})


class CryptoDashboardApi(_Agg):
    @extend_schema(
        tags=AGG,
        summary="Prices, market summary, top news and sentiment in one call",
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        return self._ok(
            {
                "prices": _prices(),
                "market_summary": _market_summary(),
                "news": _news(),
                "sentiment": selectors.sentiment_overview(limit=10),
                "trending": selectors.trending(limit=5),
            }
        )


class CryptoNewsApi(_Agg):
    @extend_schema(tags=AGG, summary="Latest stored articles", responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return self._ok({"news": _news(limit=20)})


class CryptoSentimentApi(_Agg):
    @extend_schema(tags=AGG, summary="Market sentiment (24 h)", responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return self._ok({"sentiment": selectors.sentiment_overview()})


class CryptoPricesApi(_Agg):
    @extend_schema(
        tags=AGG, summary="Latest stored prices of the top 10", responses=OpenApiTypes.OBJECT
    )
    def get(self, request: Request) -> Response:
        return self._ok({"prices": _prices()})


class CryptoMarketSummaryApi(_Agg):
    @extend_schema(
        tags=AGG, summary="Whole-market figures from stored quotes", responses=OpenApiTypes.OBJECT
    )
    def get(self, request: Request) -> Response:
        return self._ok({"market_summary": _market_summary()})


class CryptoRealSocialApi(_Agg):
    @extend_schema(
        tags=AGG, summary="Reddit + CryptoPanic + RSS mix", responses=OpenApiTypes.OBJECT
    )
    def get(self, request: Request) -> Response:
        mix = {kind: _news(limit=10, kinds=(kind,)) for kind in ("reddit", "cryptopanic", "rss")}
        return self._ok({"social": mix, "twitter": "unavailable (see crypto/twitter)"})


TWITTER_NOTE = (
    "Twitter/X is not a source: Nitter instances are gone and the X API has no free read "
    "access, so nothing is fetched and nothing is faked."
)


class CryptoSourcesApi(_Agg):
    @extend_schema(
        tags=AGG,
        summary="Which sources are configured, enabled, healthy",
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        unavailable = [
            {
                "slug": "twitter",
                "name": "Twitter/X (via Nitter)",
                "enabled": False,
                "healthy": False,
                "reason": TWITTER_NOTE,
            }
        ]
        return self._ok({"sources": selectors.source_list(), "unavailable": unavailable})


class CryptoTwitterApi(APIView):
    @extend_schema(
        tags=AGG,
        summary="Twitter/X: unavailable (an honest 503)",
        responses={503: OpenApiResponse(description="Always: the error envelope, Retry-After")},
    )
    def get(self, request: Request) -> JsonResponse:
        # An expected state, not a server fault: answered directly, not raised (no error log).
        return envelope(
            status_code=503,
            code="source_unavailable",
            detail=TWITTER_NOTE,
            headers={"Retry-After": "86400"},
        )
