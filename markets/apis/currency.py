"""``GET /api/v1/currencies``: the quote currencies ``vs=`` accepts, with each rate's provenance."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from markets import currency
from markets.serializers.currency import CurrenciesSerializer


class CurrenciesApi(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        tags=["prices"],
        summary="Quote currencies accepted by vs= (fiat from daily reference rates, crypto "
        "from our prices), each with its rate's source and age",
        responses={200: CurrenciesSerializer},
    )
    def get(self, request: Request) -> Response:
        data = []
        for code in currency.supported_currencies():
            r = currency.rate(code)
            data.append(
                {
                    "code": code,
                    "rate": r.per_usd,
                    "source": r.source,
                    "as_of": r.as_of,
                    "stale": r.stale,
                }
            )
        return Response(
            CurrenciesSerializer(
                {"count": len(data), "data": data, "fetched_at": timezone.now()}
            ).data
        )
