"""The whole-market reads: global figures, trending coins, both with the top assets."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from markets import selectors, services
from markets.serializers.assets import AssetSerializer
from markets.serializers.market import (
    GlobalMarketSerializer,
    MarketDataQuerySerializer,
    MarketDataSerializer,
    TrendingSerializer,
)

from . import query_data


class MarketGlobalApi(APIView):
    @extend_schema(
        tags=["markets"],
        summary="Total market cap, volume and dominance",
        responses=GlobalMarketSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response(GlobalMarketSerializer(services.market_global()).data)


class MarketTrendingApi(APIView):
    @extend_schema(
        tags=["markets"],
        summary="Trending coins (provider), else our top 24h gainers",
        parameters=[MarketDataQuerySerializer],
        responses=TrendingSerializer,
    )
    def get(self, request: Request) -> Response:
        q = query_data(MarketDataQuerySerializer, request)
        trending = services.market_trending(limit=q["limit"])
        return Response(TrendingSerializer(trending).data)


class MarketDataApi(APIView):
    @extend_schema(
        tags=["markets"],
        summary="Global figures plus the top assets by rank, in one call",
        parameters=[MarketDataQuerySerializer],
        responses=MarketDataSerializer,
    )
    def get(self, request: Request) -> Response:
        q = query_data(MarketDataQuerySerializer, request)
        assets = list(selectors.asset_list()[: q["limit"]])
        context = {"now": timezone.now()}
        return Response(
            {
                "market": GlobalMarketSerializer(services.market_global()).data,
                "assets": AssetSerializer(assets, many=True, context=context).data,
            }
        )
