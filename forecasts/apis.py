"""Forecast API: precomputed forecasts, the model catalogue and the report card.

Requests read stored rows and the manifest only (never train, never load a model). Responses
are cached in two tiers (``forecasts.response_cache`` over ``core.cache``), keyed by the
manifest's signature and a generation counter every forecasts write bumps, so a new issue, a
promotion or a rebuilt manifest is served at once. Unknown ids are an error response, never
a cached entry.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.fastpath import anonymous_json_get, json_bytes, page_key
from core.pagination import BoundedPageNumberPagination
from core.permissions import IsAnalyst
from core.tabular import (
    FORMAT_PARAMETER,
    TABLE_RENDERERS,
    TableNegotiation,
    file_response,
    wants_table,
)
from forecasts import reports, response_cache, selectors
from forecasts.catalogue import (
    LEVELS,
    MAX_API_DAYS,
    MODEL_TYPES,
    REQUESTABLE_MODELS,
)
from markets import selectors as market_selectors
from markets.contracts import Rate, UnknownCurrency

USD = "usd"

MAX_IDS = 20


# --- query parameters ---------------------------------------------------------------------------


class CsvIdsField(serializers.CharField):
    def to_internal_value(self, data: Any) -> list[str]:
        text = super().to_internal_value(data)
        ids = [i.strip().lower() for i in text.split(",") if i.strip()]
        if not ids:
            raise serializers.ValidationError("Give at least one coin id, e.g. bitcoin,ethereum.")
        if len(ids) > MAX_IDS:
            raise serializers.ValidationError(f"At most {MAX_IDS} ids per request.")
        return list(dict.fromkeys(ids))


class VsRateField(serializers.CharField):
    """``?vs=``: validated to the ``markets.contracts.Rate`` to convert with (ONE lookup per
    request); unknown -> a 400 naming ``vs`` and listing the supported codes (as markets')."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("default", USD)
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("help_text", "Quote currency (GET /api/v1/currencies lists them)")
        super().__init__(**kwargs)

    def run_validation(self, data: Any = serializers.empty) -> Any:
        value = super().run_validation(data)
        vs = (value or USD).strip().lower()
        try:
            return market_selectors.currency_rate(vs)
        except UnknownCurrency as exc:
            raise serializers.ValidationError(
                f"Unsupported currency {vs!r}; supported: {', '.join(exc.supported)}."
            ) from exc


def _convert_forecast(coin: dict[str, Any], rate: Rate) -> dict[str, Any]:
    """A coin's forecast in ``rate.vs``: point, bands and ``last_close`` times today's rate (a
    forecast is of future days, for which no rate exists yet); skill figures are ratios and
    percentages, the same in any currency, so they are left as they are."""
    r = rate.per_usd

    def band(levels: dict[Any, Any]) -> dict[Any, Any]:
        return {lv: (v * r if v is not None else None) for lv, v in levels.items()}

    out = dict(coin)
    if out.get("last_close") is not None:
        out["last_close"] = out["last_close"] * r
    out["points"] = [
        {**p, "point": p["point"] * r, "lower": band(p["lower"]), "upper": band(p["upper"])}
        for p in coin.get("points", [])
    ]
    out["vs"] = rate.vs
    out["rate"] = r
    out["rate_source"] = rate.source
    out["rate_as_of"] = rate.as_of.isoformat().replace("+00:00", "Z") if rate.as_of else None
    out["stale"] = bool(coin.get("stale") or rate.stale)
    return out


class ForecastQuerySerializer(serializers.Serializer):
    vs = VsRateField()
    ids = CsvIdsField(
        required=False, help_text="Comma-separated coin ids or symbols (bitcoin,ethereum)."
    )
    days = serializers.IntegerField(
        required=False, default=7, min_value=1, max_value=MAX_API_DAYS, help_text="1..30"
    )
    model = serializers.ChoiceField(
        choices=list(REQUESTABLE_MODELS), required=False, default="auto"
    )


class PerformanceQuerySerializer(serializers.Serializer):
    ids = CsvIdsField(help_text="Comma-separated coin ids or symbols.")
    models = serializers.CharField(required=False, help_text="Comma-separated model types.")

    def validate_models(self, value: str) -> list[str]:
        names = [m.strip().lower() for m in value.split(",") if m.strip()]
        unknown = [m for m in names if m not in MODEL_TYPES]
        if unknown:
            raise serializers.ValidationError(f"Unknown model(s): {', '.join(unknown)}.")
        return names


def _unknown_ids(exc: selectors.UnknownAssets) -> serializers.ValidationError:
    return serializers.ValidationError({"ids": [f"Unknown coin id(s): {', '.join(exc.missing)}."]})


# --- response shapes (documentation; payloads are built as plain dicts for speed) --------------


#: one float per interval level ("80", "90", "95"); names are not identifiers, hence type()
LevelsSerializer = type(
    "LevelsSerializer",
    (serializers.Serializer,),
    {str(lv): serializers.FloatField(allow_null=True) for lv in LEVELS},
)


class PointSerializer(serializers.Serializer):
    date = serializers.DateField()
    horizon = serializers.IntegerField()
    point = serializers.FloatField()
    lower = LevelsSerializer()
    upper = LevelsSerializer()
    model = serializers.CharField(required=False, help_text="Only when it differs (auto).")
    version = serializers.CharField(required=False)


class SkillSerializer(serializers.Serializer):
    rel_mae = serializers.FloatField(allow_null=True, help_text="MAE / naive MAE (<1 beats naive)")
    mase = serializers.FloatField(allow_null=True)
    directional_accuracy = serializers.FloatField(allow_null=True)
    coverage = LevelsSerializer()
    horizons = serializers.IntegerField()


class NaiveSkillSerializer(SkillSerializer):
    model = serializers.CharField()
    version = serializers.CharField(allow_null=True)


class CoinForecastSerializer(serializers.Serializer):
    id = serializers.CharField()
    symbol = serializers.CharField()
    requested_model = serializers.CharField()
    model = serializers.CharField()
    models_used = serializers.ListField(child=serializers.CharField())
    version = serializers.JSONField(help_text="One version id, or a list for auto.")
    trained_at = serializers.DateTimeField(allow_null=True)
    data_until = serializers.DateField(allow_null=True)
    origin_age_days = serializers.FloatField(
        allow_null=True, help_text="Days between the forecast's origin (data_until) and now."
    )
    stale = serializers.BooleanField(
        help_text="True when origin_age_days exceeds FORECAST_STALE_AFTER_DAYS."
    )
    stale_reason = serializers.CharField(allow_blank=True)
    issued_at = serializers.DateTimeField(allow_null=True)
    last_close = serializers.FloatField(allow_null=True)
    fallback = serializers.CharField(
        allow_null=True, help_text="Why the requested model was not served."
    )
    skill = SkillSerializer()
    naive_skill = NaiveSkillSerializer()
    levels = serializers.ListField(child=serializers.IntegerField())
    points = PointSerializer(many=True)


class ForecastResponseSerializer(serializers.Serializer):
    model = serializers.CharField()
    days = serializers.IntegerField()
    data = CoinForecastSerializer(many=True)


class ModelsResponseSerializer(serializers.Serializer):
    model_types = serializers.ListField(child=serializers.CharField())
    requestable = serializers.ListField(child=serializers.CharField())
    max_age_days = serializers.FloatField(allow_null=True)
    manifest_updated_at = serializers.CharField(allow_null=True)
    coins = serializers.JSONField()


class PerformanceResponseSerializer(serializers.Serializer):
    data = serializers.JSONField(help_text="Per coin: entries per model x horizon, beside naive.")


# --- spreadsheet rows (?format=csv / ?format=xlsx) -----------------------------------------------


def forecast_rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per coin x forecast day, intervals as ``lower_80``/``upper_80``... columns."""
    rows = []
    for coin in payload.get("data", []):
        for p in coin.get("points", []):
            row: dict[str, Any] = {
                "id": coin["id"],
                "symbol": coin["symbol"],
                "date": p["date"],
                "horizon": p["horizon"],
                "point": p["point"],
            }
            for lv in coin.get("levels") or LEVELS:
                row[f"lower_{lv}"] = p["lower"].get(str(lv))
                row[f"upper_{lv}"] = p["upper"].get(str(lv))
            row |= {
                "model": p.get("model") or coin["model"],
                "version": p.get("version") or coin["version"],
                "requested_model": coin["requested_model"],
                "fallback": coin.get("fallback"),
                "data_until": coin.get("data_until"),
                "issued_at": coin.get("issued_at"),
                "stale": coin.get("stale"),
                "vs": coin.get("vs", USD),
                "skill_rel_mae": coin["skill"].get("rel_mae"),
                "naive_rel_mae": coin["naive_skill"].get("rel_mae"),
            }
            rows.append(row)
    return rows


def _prefixed(prefix: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, item in (value or {}).items():
        if isinstance(item, dict):
            out |= _prefixed(f"{prefix}{name}_", item)
        else:
            out[f"{prefix}{name}"] = item
    return out


def performance_rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per coin x model x horizon: backtest and live figures beside naive's."""
    rows = []
    for coin in payload.get("data", []):
        for entry in coin["entries"]:
            row = {
                "id": coin["id"],
                "symbol": coin["symbol"],
                "model": entry["model"],
                "horizon": entry["horizon"],
            }
            for part in ("backtest", "naive_backtest", "live", "naive_live"):
                row |= _prefixed(f"{part}_", entry.get(part))
            rows.append(row)
    # every row gets every column (a model without live figures leaves them empty)
    columns = list(dict.fromkeys(name for row in rows for name in row))
    return [{name: row.get(name) for name in columns} for row in rows]


# --- views ----------------------------------------------------------------------------------------


class ForecastListApi(APIView):
    """Precomputed forecasts per coin with intervals and walk-forward skill beside naive."""

    renderer_classes = TABLE_RENDERERS
    content_negotiation_class = TableNegotiation
    export_filename = "forecasts"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Hot path (WSGI): a rendered page in this process's tier answers before DRF."""
        return _forecasts_l1_hit(request) or super().dispatch(request, *args, **kwargs)

    @staticmethod
    async def async_fast_path(request: HttpRequest, **kwargs: Any) -> HttpResponse | None:
        """Hot path (ASGI): the same L1 hit without a sync view's thread hop."""
        return _forecasts_l1_hit(request)

    @extend_schema(
        operation_id="forecasts_list",
        parameters=[ForecastQuerySerializer, FORMAT_PARAMETER],
        responses={200: ForecastResponseSerializer},
        summary="Forecasts per coin (points, 80/90/95% intervals, skill vs naive)",
    )
    def get(self, request: Request) -> Response:
        query = ForecastQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        ids = query.validated_data.get("ids")
        days = query.validated_data["days"]
        model = query.validated_data["model"]
        rate: Rate = query.validated_data["vs"]

        def build() -> dict[str, Any]:
            # raises UnknownAssets before anything is built: an error is never cached
            assets = (
                selectors.resolve_assets(ids)
                if ids
                else selectors.assets_with_forecasts(model=model)
            )
            data = [selectors.coin_forecast(asset=a, model=model, days=days) for a in assets]
            if rate.vs != USD:
                data = [_convert_forecast(coin, rate) for coin in data]
            return {
                "model": model,
                "days": days,
                **({"vs": rate.vs} if rate.vs != USD else {}),
                "data": data,
            }

        # keyed by vs: a converted payload is cached under its own currency
        parts = (",".join(ids or []), days, model, rate.vs)
        try:
            if not wants_table(request) and anonymous_json_get(request._request):
                # the rendered page, for the fast path to answer next time
                body, tier = response_cache.page(
                    page_key(request._request),
                    lambda: JSONRenderer().render(response_cache.cached("list", parts, build)),
                )
                return json_bytes(body, tier=tier)
            payload = response_cache.cached("list", parts, build)
        except selectors.UnknownAssets as exc:
            raise _unknown_ids(exc) from exc
        if wants_table(request):  # one row per coin x day (bounded: 20 coins x 30 days)
            return Response(forecast_rows(payload))
        return Response(payload)


def _forecasts_l1_hit(request: HttpRequest) -> HttpResponse | None:
    if not anonymous_json_get(request):
        return None
    body = response_cache.page_l1(page_key(request))
    return json_bytes(body, tier="l1") if body is not None else None


class ForecastModelsApi(APIView):
    """Model types, versions, aliases and freshness, from the manifest."""

    @extend_schema(
        operation_id="forecasts_models",
        responses={200: ModelsResponseSerializer},
        summary="Available model types, versions, aliases and freshness",
    )
    def get(self, request: Request) -> Response:
        return Response(response_cache.cached("models", (), selectors.model_catalogue))


class ForecastPerformanceApi(APIView):
    """The report card: backtest metrics and live accuracy per model and horizon, beside naive."""

    renderer_classes = TABLE_RENDERERS
    content_negotiation_class = TableNegotiation
    export_filename = "performance"

    @extend_schema(
        operation_id="forecasts_performance",
        parameters=[PerformanceQuerySerializer, FORMAT_PARAMETER],
        responses={200: PerformanceResponseSerializer},
        summary="Backtest and live accuracy per model and horizon, always beside naive",
    )
    def get(self, request: Request) -> Response:
        query = PerformanceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        ids = query.validated_data["ids"]
        models = query.validated_data.get("models")
        try:
            assets = selectors.resolve_assets(ids)
        except selectors.UnknownAssets as exc:
            raise _unknown_ids(exc) from exc

        def build() -> dict[str, Any]:
            return {"data": selectors.performance(assets=assets, models=models)}

        parts = (",".join(ids), ",".join(models or []))
        payload = response_cache.cached("performance", parts, build)
        if wants_table(request):
            return Response(performance_rows(payload))
        return Response(payload)


def _asset_or_404(id: str) -> Any:
    try:
        return market_selectors.asset_get(id)
    except market_selectors.AssetNotFound as exc:
        raise NotFound(str(exc)) from exc


class CoinReportPdfApi(APIView):
    """A coin's PDF report (price chart with the forecast band, skill vs naive)."""

    @extend_schema(
        operation_id="reports_coin_pdf",
        tags=["reports"],
        responses={
            (200, "application/pdf"): OpenApiResponse(
                response=OpenApiTypes.BINARY, description="Two A4 pages."
            )
        },
        summary="PDF report of one coin (id or symbol)",
    )
    def get(self, request: Request, id: str) -> HttpResponse:
        asset = _asset_or_404(id)
        return file_response(
            reports.coin_report_pdf(asset=asset),
            content_type="application/pdf",
            filename=f"{asset.pk}-report.pdf",
            inline=True,
        )


class BacktestReportPdfApi(APIView):
    """The walk-forward backtest of a coin's champion models vs naive, as a PDF."""

    @extend_schema(
        operation_id="reports_backtest_pdf",
        tags=["reports"],
        responses={
            (200, "application/pdf"): OpenApiResponse(
                response=OpenApiTypes.BINARY,
                description="relMAE chart per model and horizon, then the metrics table.",
            )
        },
        summary="PDF of a coin's backtest (every model vs naive, per horizon)",
    )
    def get(self, request: Request, id: str) -> HttpResponse:
        asset = _asset_or_404(id)
        return file_response(
            reports.coin_backtest_pdf(asset=asset),
            content_type="application/pdf",
            filename=f"{asset.pk}-backtest.pdf",
            inline=True,
        )


# --- /forecasts/training --------------------------------------------------------------------------


class TrainingQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["train", "issue"], required=False, default="train", help_text="Which run."
    )
    status = serializers.ChoiceField(
        choices=["queued", "running", "done", "failed", "skipped"],
        required=False,
        help_text="Only tasks in this state.",
    )


class TrainingTaskSerializer(serializers.Serializer):
    id = serializers.CharField(source="asset_id", help_text="Coin id.")
    symbol = serializers.CharField(source="asset.symbol")
    model = serializers.CharField(help_text='Model type ("*" = every model, issuing runs).')
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    seconds = serializers.FloatField(allow_null=True)
    version = serializers.CharField()
    skill_score = serializers.FloatField(
        allow_null=True, help_text="Mean walk-forward relMAE vs naive (<1 beats naive)."
    )
    promoted = serializers.BooleanField(allow_null=True)
    detail = serializers.CharField(help_text="Promotion reason, skip reason or error.")


class TrainingRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    params = serializers.JSONField()
    counts = serializers.DictField(child=serializers.IntegerField())


class TrainingResponseSerializer(serializers.Serializer):
    run = TrainingRunSerializer(allow_null=True)
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = TrainingTaskSerializer(many=True)


class TrainingRunApi(APIView):
    """The latest fanned-out run (analysts and staff): per (coin, model) state, duration, skill
    vs naive, promoted or not, and why; ``run`` is null before the first run."""

    permission_classes = [IsAnalyst]

    @extend_schema(
        operation_id="forecasts_training",
        parameters=[TrainingQuerySerializer],
        responses={200: TrainingResponseSerializer},
        summary="Latest training (or issuing) run, per coin x model",
    )
    def get(self, request: Request) -> Response:
        query = TrainingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        run = selectors.run_latest(kind=query.validated_data["kind"])
        if run is None:
            return Response(
                {"run": None, "count": 0, "next": None, "previous": None, "results": []}
            )
        tasks = selectors.run_task_list(run=run)
        if query.validated_data.get("status"):
            tasks = tasks.filter(status=query.validated_data["status"])
        paginator = BoundedPageNumberPagination()
        page = paginator.paginate_queryset(tasks, request, view=self)
        summary = selectors.run_summary(run=run)
        response = paginator.get_paginated_response(TrainingTaskSerializer(page, many=True).data)
        response.data = {
            "run": {
                "id": run.pk,
                "kind": run.kind,
                "status": run.status,
                "created_at": run.created_at,
                "finished_at": run.finished_at,
                "params": {k: v for k, v in run.params.items() if k != "config"}
                | {"horizons": (run.params.get("config") or {}).get("horizons")},
                "counts": summary["counts"],
            },
            **response.data,
        }
        return response
