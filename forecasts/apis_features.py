"""Features API (seed 000 "Features & ETL"): OHLCV, prices and the engine's technical
features as JSON, CSV or Parquet (``?format=``), over bounded date ranges."""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import renderers, serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from forecasts import features
from forecasts.engine.features import feature_names
from markets import selectors as market_selectors

PARQUET = "application/vnd.apache.parquet"


class _CsvRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        return renderers.JSONRenderer().render(data)


class _ParquetRenderer(_CsvRenderer):
    media_type = PARQUET
    format = "parquet"


class RangeQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="first day (UTC), inclusive")
    end = serializers.DateField(required=False, help_text="last day (UTC), inclusive; default now")
    days = serializers.IntegerField(
        min_value=1, max_value=3660, default=365, help_text="window when start is not given"
    )
    format = serializers.ChoiceField(choices=["json", "csv", "parquet"], default="json")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if start and end and start > end:
            raise serializers.ValidationError({"start": ["start is after end."]})
        limit = settings.FEATURES_MAX_DAYS
        if start and end and (end - start).days + 1 > limit:
            raise serializers.ValidationError({"start": [f"At most {limit} days per request."]})
        if start and not end:
            span = (datetime.now(UTC).date() - start).days + 1
            if span > limit:
                raise serializers.ValidationError(
                    {"start": [f"At most {limit} days per request (give an end)."]}
                )
        return attrs


class OhlcvQuerySerializer(RangeQuerySerializer):
    interval = serializers.ChoiceField(choices=["1d", "1h"], default="1d")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if attrs["interval"] == "1h" and attrs["days"] > 366 and not attrs.get("start"):
            raise serializers.ValidationError({"days": ["At most 366 days of hourly candles."]})
        return attrs


class TechnicalQuerySerializer(RangeQuerySerializer):
    columns = serializers.CharField(
        required=False, max_length=2000, help_text="comma-separated subset (default: all)"
    )

    def validate_columns(self, value: str) -> list[str]:
        wanted = [c.strip() for c in value.split(",") if c.strip()]
        known = set(feature_names())
        unknown = [c for c in wanted if c not in known]
        if unknown:
            raise serializers.ValidationError(f"Unknown columns: {', '.join(unknown[:10])}.")
        return wanted


class PricesQuerySerializer(RangeQuerySerializer):
    symbols = serializers.CharField(max_length=500, help_text="comma-separated, at most 20")

    def validate_symbols(self, value: str) -> list[str]:
        wanted = list(dict.fromkeys(s.strip() for s in value.split(",") if s.strip()))
        if not wanted or len(wanted) > 20:
            raise serializers.ValidationError("Give 1 to 20 symbols or ids.")
        return wanted


def _valid(cls: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    s = cls(data=request.query_params)
    s.is_valid(raise_exception=True)
    return s.validated_data


def _asset(symbol: str) -> Any:
    try:
        return market_selectors.asset_get(symbol)
    except market_selectors.AssetNotFound as exc:
        raise NotFound(str(exc)) from exc


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _iso(dt: Any) -> str | None:
    if dt is None:
        return None
    return pd.Timestamp(dt).tz_convert("UTC").isoformat().replace("+00:00", "Z")


def _series_response(
    *, frame: pd.DataFrame, meta: dict[str, Any], fmt: str, filename: str
) -> HttpResponse | Response:
    frame = frame.copy()
    frame.index.name = "time"
    if fmt == "csv":
        body = frame.to_csv(date_format="%Y-%m-%dT%H:%M:%SZ", float_format="%.10g")
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    elif fmt == "parquet":
        table = pa.Table.from_pandas(frame.reset_index(), preserve_index=False)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), b"cryptocast": _meta_json(meta)}
        )
        buf = io.BytesIO()
        pq.write_table(table, buf)
        response = HttpResponse(buf.getvalue(), content_type=PARQUET)
    else:
        rows = [
            {"time": _iso(t), **{k: _clean(v) for k, v in row.items()}}
            for t, row in zip(frame.index, frame.to_dict("records"), strict=True)
        ]
        return Response({**meta, "count": len(rows), "data": rows})
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response["X-Source"] = str(meta.get("source", ""))
    response["X-As-Of"] = str(meta.get("as_of") or "")
    return response


def _meta_json(meta: dict[str, Any]) -> bytes:
    return json.dumps(meta, default=str).encode()


class _FeaturesView(APIView):
    renderer_classes = [renderers.JSONRenderer, _CsvRenderer, _ParquetRenderer]

    def finalize_response(self, request, response, *args, **kwargs):  # type: ignore[override]
        if isinstance(response, Response) and response.status_code >= 400:
            # errors are the JSON envelope whatever ?format= asked for
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)


def _meta(asset: Any, interval: str, start: datetime, end: datetime) -> dict[str, Any]:
    prov = features.provenance(asset=asset, interval=interval, start=start, end=end)
    return {
        "id": asset.pk,
        "symbol": asset.symbol,
        "interval": interval,
        "start": _iso(start),
        "end": _iso(end),
        "source": prov["source"],
        "as_of": _iso(prov["as_of"]),
    }


_SERIES = OpenApiResponse(
    description="JSON (meta + data rows), or CSV / Parquet with ?format=",
    response=inline_serializer(
        "FeatureSeries",
        {
            "id": serializers.CharField(),
            "source": serializers.CharField(),
            "as_of": serializers.DateTimeField(allow_null=True),
            "count": serializers.IntegerField(),
            "data": serializers.ListField(child=serializers.DictField()),
        },
    ),
)
_SYMBOL = OpenApiParameter("symbol", str, OpenApiParameter.PATH, description="Asset id or symbol")


class OhlcvFeaturesApi(_FeaturesView):
    @extend_schema(
        tags=["features"],
        summary="Stored OHLCV candles of one asset",
        parameters=[_SYMBOL, OhlcvQuerySerializer],
        responses={200: _SERIES, 404: OpenApiResponse(description="Unknown asset")},
    )
    def get(self, request: Request, symbol: str) -> Any:
        q = _valid(OhlcvQuerySerializer, request)
        asset = _asset(symbol)
        start, end = features._bounds(q.get("start"), q.get("end"), q["days"])
        frame = features.ohlcv(asset=asset, interval=q["interval"], start=start, end=end)
        meta = _meta(asset, q["interval"], start, end)
        return _series_response(
            frame=frame, meta=meta, fmt=q["format"], filename=f"{asset.pk}-ohlcv"
        )


class PriceFeaturesApi(_FeaturesView):
    @extend_schema(
        tags=["features"],
        summary="Daily close and 1-day log return of one asset",
        parameters=[_SYMBOL, RangeQuerySerializer],
        responses={200: _SERIES, 404: OpenApiResponse(description="Unknown asset")},
    )
    def get(self, request: Request, symbol: str) -> Any:
        q = _valid(RangeQuerySerializer, request)
        asset = _asset(symbol)
        start, end = features._bounds(q.get("start"), q.get("end"), q["days"])
        frame = features.ohlcv(asset=asset, interval="1d", start=start, end=end)[["close"]]
        frame["log_return_1d"] = np.log(frame["close"]).diff()
        meta = _meta(asset, "1d", start, end)
        return _series_response(
            frame=frame, meta=meta, fmt=q["format"], filename=f"{asset.pk}-price"
        )


class PricesFeaturesApi(_FeaturesView):
    @extend_schema(
        tags=["features"],
        summary="Daily closes of several assets side by side (one column per asset)",
        parameters=[PricesQuerySerializer],
        responses={200: _SERIES},
    )
    def get(self, request: Request) -> Any:
        q = _valid(PricesQuerySerializer, request)
        assets = [_asset(s) for s in q["symbols"]]
        start, end = features._bounds(q.get("start"), q.get("end"), q["days"])
        frame = features.closes(assets=assets, start=start, end=end)
        metas = [_meta(a, "1d", start, end) for a in assets]
        meta = {
            "ids": [a.pk for a in assets],
            "interval": "1d",
            "start": _iso(start),
            "end": _iso(end),
            "source": ",".join(sorted({m["source"] for m in metas if m["source"]})),
            "as_of": {m["id"]: m["as_of"] for m in metas},
        }
        return _series_response(frame=frame, meta=meta, fmt=q["format"], filename="prices")


class TechnicalFeaturesApi(_FeaturesView):
    @extend_schema(
        tags=["features"],
        summary="The forecasting engine's features (RSI, MACD, Bollinger, momentum, volatility, "
        "volume...), no look-ahead, documented per column",
        parameters=[_SYMBOL, TechnicalQuerySerializer],
        responses={200: _SERIES, 404: OpenApiResponse(description="Unknown asset")},
    )
    def get(self, request: Request, symbol: str) -> Any:
        q = _valid(TechnicalQuerySerializer, request)
        asset = _asset(symbol)
        start, end = features._bounds(q.get("start"), q.get("end"), q["days"])
        frame = features.technical(asset=asset, start=start, end=end, columns=q.get("columns"))
        meta = _meta(asset, "1d", start, end)
        meta["no_look_ahead"] = (
            "each row uses the daily candles up to and including its own day only; "
            f"the first {features.WARMUP_ROWS} days of an asset's history have nulls"
        )
        if q["format"] == "json":
            meta["columns"] = features.columns_doc(list(frame.columns))
        return _series_response(
            frame=frame, meta=meta, fmt=q["format"], filename=f"{asset.pk}-technical"
        )


class FeatureSetsApi(APIView):
    @extend_schema(
        tags=["features"],
        summary="The named feature sets the models use, with their columns",
        responses=inline_serializer(
            "FeatureSets", {"feature_sets": serializers.ListField(child=serializers.DictField())}
        ),
    )
    def get(self, request: Request) -> Response:
        return Response({"feature_sets": features.feature_sets()})
