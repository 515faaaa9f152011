"""REST endpoints of `alerts` (under ``/api/v1/``): parse, authorise, call one service/selector.

Every object is looked up through an owner-scoped selector: another user's watchlist, alert,
event, notification or webhook is simply not found (404), for every method.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import django_filters as df
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from django.http import HttpResponseBase
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from alerts import selectors, services
from alerts.contracts import Kind, State, Trigger
from alerts.models import (
    Alert,
    AlertEvent,
    Anomaly,
    Delivery,
    Notification,
    Watchlist,
    Webhook,
)
from core.tabular import (
    FORMAT_PARAMETER,
    TABLE_RENDERERS,
    TableNegotiation,
    stream_csv,
    wants_format,
)
from markets import selectors as market_selectors

TAGS_W, TAGS_A, TAGS_N = ["watchlists"], ["alerts"], ["notifications"]


def _valid(serializer_class: type[serializers.Serializer], data: Any, **kw: Any) -> dict:
    s = serializer_class(data=data, **kw)
    s.is_valid(raise_exception=True)
    return dict(s.validated_data)


def _get(fn: Any, **kw: Any) -> Any:
    try:
        return fn(**kw)
    except Exception as exc:
        if exc.__class__.__name__ == "DoesNotExist":
            raise exceptions.NotFound() from exc
        raise


class _UserView(GenericAPIView):
    permission_classes = [IsAuthenticated]

    def handle_exception(self, exc: Exception) -> Response:
        # The services raise Django's ValidationError naming the field: a 400 in the envelope.
        if isinstance(exc, DjangoValidationError):
            exc = exceptions.ValidationError(
                exc.message_dict
                if hasattr(exc, "error_dict")
                else {"non_field_errors": exc.messages}
            )
        return super().handle_exception(exc)


# --- serializers ----------------------------------------------------------------------------
class CoinOut(serializers.Serializer):
    id = serializers.CharField(source="asset.id")
    symbol = serializers.CharField(source="asset.symbol")
    name = serializers.CharField(source="asset.name")
    position = serializers.IntegerField()


class WatchlistOut(serializers.ModelSerializer):
    coins = CoinOut(source="items", many=True)

    class Meta:
        model = Watchlist
        fields = ["id", "name", "coins", "created_at", "updated_at"]


class WatchlistIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    coins = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=500, required=False, default=list
    )


class StateOut(serializers.Serializer):
    coin = serializers.CharField(source="asset_id")
    state = serializers.CharField()
    since = serializers.DateTimeField()
    last_value = serializers.FloatField(allow_null=True)
    last_observation = serializers.CharField(source="last_observation_key")
    last_fired_at = serializers.DateTimeField(allow_null=True)


class EventOut(serializers.ModelSerializer):
    coin = serializers.CharField(source="asset_id")

    class Meta:
        model = AlertEvent
        fields = [
            "id",
            "alert",
            "coin",
            "from_state",
            "to_state",
            "value",
            "reason",
            "values",
            "source",
            "as_of",
            "observation_key",
            "notified",
            "created_at",
        ]


class AlertOut(serializers.ModelSerializer):
    coin = serializers.CharField(source="asset_id", allow_null=True)
    description = serializers.SerializerMethodField()
    states = StateOut(many=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "name",
            "coin",
            "watchlist",
            "kind",
            "params",
            "description",
            "trigger",
            "for_seconds",
            "hysteresis_pct",
            "cooldown_seconds",
            "bar_seconds",
            "stale_seconds",
            "expires_at",
            "status",
            "states",
            "created_at",
            "updated_at",
        ]

    def get_description(self, obj: Alert) -> str:
        return services.alert_description(obj)


class AlertDetailOut(AlertOut):
    recent_events = serializers.SerializerMethodField()

    class Meta(AlertOut.Meta):
        fields = [*AlertOut.Meta.fields, "recent_events"]

    def get_recent_events(self, obj: Alert) -> list[dict]:
        return EventOut(selectors.alert_events(alert=obj)[:20], many=True).data


class _AlertFields(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=[k.value for k in Kind])
    params = serializers.DictField(required=False, default=dict)
    trigger = serializers.ChoiceField(choices=[t.value for t in Trigger], required=False)
    for_seconds = serializers.IntegerField(min_value=0, max_value=7 * 86400, required=False)
    hysteresis_pct = serializers.FloatField(min_value=0, max_value=50, required=False)
    cooldown_seconds = serializers.IntegerField(min_value=0, max_value=30 * 86400, required=False)
    bar_seconds = serializers.IntegerField(min_value=60, max_value=30 * 86400, required=False)
    stale_seconds = serializers.IntegerField(min_value=30, max_value=7 * 86400, required=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class AlertIn(_AlertFields):
    coin = serializers.CharField(max_length=100, required=False)
    watchlist = serializers.IntegerField(min_value=1, required=False)


class AlertPatchIn(_AlertFields):
    kind = serializers.ChoiceField(choices=[k.value for k in Kind], required=False)
    params = serializers.DictField(required=False)
    status = serializers.ChoiceField(
        choices=Alert.Status.choices, required=False, help_text="active (resume) or paused"
    )


class DryRunOut(serializers.Serializer):
    coin = serializers.CharField(source="asset_id")
    state = serializers.CharField()
    would_fire = serializers.BooleanField()
    signal = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    reason = serializers.CharField()
    price = serializers.FloatField(allow_null=True)
    source = serializers.CharField()
    as_of = serializers.DateTimeField(allow_null=True)


class NotificationOut(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "title", "body", "data", "created_at", "read_at", "read"]

    def get_read(self, obj: Notification) -> bool:
        return obj.read_at is not None


class WebhookOut(serializers.ModelSerializer):
    class Meta:
        model = Webhook
        fields = ["id", "url", "is_active", "consecutive_failures", "disabled_reason", "created_at"]


class WebhookCreatedOut(WebhookOut):
    class Meta(WebhookOut.Meta):
        fields = [*WebhookOut.Meta.fields, "secret"]


class WebhookIn(serializers.Serializer):
    url = serializers.CharField(max_length=500)


class WebhookPatchIn(serializers.Serializer):
    url = serializers.CharField(max_length=500, required=False)
    is_active = serializers.BooleanField(required=False)


class DeliveryOut(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = [
            "id",
            "notification",
            "channel",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "sent_at",
            "created_at",
            "idempotency_key",
        ]


@extend_schema_field(
    {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$", "example": "22:00"}
)
class UtcTimeField(serializers.TimeField):
    """A time of day in UTC without an offset (``22:00``, ``22:00:00.000000``): OpenAPI's
    ``format: time`` is RFC 3339's, which requires the offset DRF does not write."""


class PreferenceIO(serializers.Serializer):
    push = serializers.BooleanField(required=False)
    email = serializers.BooleanField(required=False)
    webhook = serializers.BooleanField(required=False)
    quiet_start = UtcTimeField(required=False, allow_null=True, help_text="UTC")
    quiet_end = UtcTimeField(required=False, allow_null=True, help_text="UTC")
    daily_digest = serializers.BooleanField(required=False)


# --- watchlists -----------------------------------------------------------------------------
class WatchlistListApi(_UserView):
    serializer_class = WatchlistOut

    def get_queryset(self) -> QuerySet[Watchlist]:
        if getattr(self, "swagger_fake_view", False):
            return Watchlist.objects.none()
        return selectors.watchlist_list(user=self.request.user)

    @extend_schema(
        tags=TAGS_W,
        summary="My watchlists",
        operation_id="watchlist_list",
        responses=WatchlistOut(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WatchlistOut(page, many=True).data)

    @extend_schema(tags=TAGS_W, request=WatchlistIn, responses={201: WatchlistOut})
    def post(self, request: Request) -> Response:
        data = _valid(WatchlistIn, request.data)
        wl = services.watchlist_create(user=request.user, name=data["name"], coins=data["coins"])
        wl = selectors.watchlist_get(user=request.user, pk=wl.pk)
        return Response(WatchlistOut(wl).data, status=status.HTTP_201_CREATED)


class WatchlistDetailApi(_UserView):
    serializer_class = WatchlistOut

    def _object(self, pk: int) -> Watchlist:
        return _get(selectors.watchlist_get, user=self.request.user, pk=pk)

    @extend_schema(tags=TAGS_W, summary="One of my watchlists")
    def get(self, request: Request, pk: int) -> Response:
        return Response(WatchlistOut(self._object(pk)).data)

    def _update(self, request: Request, pk: int, *, partial: bool) -> Response:
        wl = self._object(pk)
        data = _valid(WatchlistIn, request.data, partial=partial)
        services.watchlist_update(
            watchlist=wl,
            name=data.get("name"),
            coins=data["coins"] if "coins" in request.data or not partial else None,
        )
        return Response(WatchlistOut(self._object(pk)).data)

    @extend_schema(tags=TAGS_W, request=WatchlistIn, responses={200: WatchlistOut})
    def put(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=False)

    @extend_schema(tags=TAGS_W, request=WatchlistIn, responses={200: WatchlistOut})
    def patch(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=True)

    @extend_schema(tags=TAGS_W, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        services.watchlist_delete(watchlist=self._object(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WatchlistRemoveCoinApi(_UserView):
    serializer_class = WatchlistOut

    @extend_schema(tags=TAGS_W, responses={204: None}, summary="Remove a coin from my watchlists")
    def delete(self, request: Request, symbol: str) -> Response:
        removed = services.watchlist_remove_coin(user=request.user, coin=symbol)
        if not removed:
            raise exceptions.NotFound("The coin is on none of your watchlists.")
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- alerts ---------------------------------------------------------------------------------
class AlertFilter(df.FilterSet):
    coin = df.CharFilter(method="_coin", max_length=100, help_text="coin id or symbol")
    state = df.ChoiceFilter(choices=[(s.value, s.value) for s in State], method="_state")
    kind = df.ChoiceFilter(choices=[(k.value, k.value) for k in Kind])
    status = df.ChoiceFilter(choices=Alert.Status.choices)

    class Meta:
        model = Alert
        fields = ["coin", "state", "kind", "status"]

    def _coin(self, qs: QuerySet[Alert], name: str, value: str) -> QuerySet[Alert]:
        try:
            asset = market_selectors.asset_get(value)
        except market_selectors.AssetNotFound:
            return qs.none()
        watched = Q(asset_id=asset.pk) | Q(watchlist__items__asset_id=asset.pk)
        return qs.filter(watched).distinct()

    def _state(self, qs: QuerySet[Alert], name: str, value: str) -> QuerySet[Alert]:
        return qs.filter(states__state=value).distinct()


class AlertListApi(_UserView):
    serializer_class = AlertOut
    filterset_class = AlertFilter

    def get_queryset(self) -> QuerySet[Alert]:
        if getattr(self, "swagger_fake_view", False):
            return Alert.objects.none()
        return selectors.alert_list(user=self.request.user)

    @extend_schema(
        tags=TAGS_A,
        summary="My alerts (filters: coin, state, kind, status)",
        operation_id="alerts_list",
        responses=AlertOut(many=True),
    )
    def get(self, request: Request) -> Response:
        qs = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(AlertOut(page, many=True).data)

    @extend_schema(tags=TAGS_A, request=AlertIn, responses={201: AlertDetailOut})
    def post(self, request: Request) -> Response:
        data = _valid(AlertIn, request.data)
        coin, wl_id = data.pop("coin", None), data.pop("watchlist", None)
        asset_id = watchlist = None
        if coin is not None:
            try:
                asset_id = market_selectors.asset_get(coin).pk
            except market_selectors.AssetNotFound as exc:
                raise exceptions.ValidationError({"coin": [f"Unknown coin: {coin}."]}) from exc
        if wl_id is not None:
            try:
                watchlist = selectors.watchlist_get(user=request.user, pk=wl_id)
            except Watchlist.DoesNotExist as exc:
                raise exceptions.ValidationError({"watchlist": ["Unknown watchlist."]}) from exc
        alert = services.alert_create(
            user=request.user, asset_id=asset_id, watchlist=watchlist, **data
        )
        alert = selectors.alert_get(user=request.user, pk=alert.pk)
        return Response(AlertDetailOut(alert).data, status=status.HTTP_201_CREATED)


class AlertDetailApi(_UserView):
    serializer_class = AlertDetailOut

    def _object(self, pk: int) -> Alert:
        return _get(selectors.alert_get, user=self.request.user, pk=pk)

    @extend_schema(tags=TAGS_A, summary="One of my alerts, with its recent events")
    def get(self, request: Request, pk: int) -> Response:
        return Response(AlertDetailOut(self._object(pk)).data)

    @extend_schema(
        tags=TAGS_A, request=AlertPatchIn, responses={200: AlertDetailOut}, summary="Edit, pause"
    )
    def patch(self, request: Request, pk: int) -> Response:
        alert = self._object(pk)
        data = _valid(AlertPatchIn, request.data)
        services.alert_update(alert=alert, **data)
        return Response(AlertDetailOut(self._object(pk)).data)

    @extend_schema(tags=TAGS_A, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        services.alert_delete(alert=self._object(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


#: the widest ``start``..``end`` of one request, and the most rows one workbook holds (CSV
#: streams, so it has no row limit inside the range)
EVENTS_MAX_RANGE_DAYS = 366
EVENTS_XLSX_MAX_ROWS = 50_000
EVENT_COLUMNS = [
    "id",
    "alert",
    "coin",
    "created_at",
    "from_state",
    "to_state",
    "value",
    "reason",
    "source",
    "as_of",
    "observation_key",
    "notified",
    "values",
]


class EventQuery(serializers.Serializer):
    start = serializers.DateTimeField(
        required=False, help_text="From (inclusive, ISO 8601); default: end minus 366 days."
    )
    end = serializers.DateTimeField(required=False, help_text="Until (exclusive); default: now.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        end = attrs.get("end") or timezone.now()
        start = attrs.get("start") or end - timedelta(days=EVENTS_MAX_RANGE_DAYS)
        if start >= end:
            raise serializers.ValidationError({"start": ["Must be before end."]})
        if end - start > timedelta(days=EVENTS_MAX_RANGE_DAYS):
            raise serializers.ValidationError(
                {"start": [f"At most {EVENTS_MAX_RANGE_DAYS} days between start and end."]}
            )
        return {"start": start, "end": end}


def _event_row(event: AlertEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "alert": event.alert_id,
        "coin": event.asset_id,
        "created_at": event.created_at,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "value": event.value,
        "reason": event.reason,
        "source": event.source,
        "as_of": event.as_of,
        "observation_key": event.observation_key,
        "notified": event.notified,
        "values": json.dumps(event.values, default=str, sort_keys=True),
    }


class AlertEventsApi(_UserView):
    serializer_class = EventOut
    renderer_classes = TABLE_RENDERERS
    content_negotiation_class = TableNegotiation
    export_filename = "alert-events"

    @extend_schema(
        tags=TAGS_A,
        parameters=[EventQuery, FORMAT_PARAMETER],
        summary="The alert's state transitions (newest first; CSV streams the whole range)",
    )
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        alert = _get(selectors.alert_get, user=request.user, pk=pk)
        query = _valid(EventQuery, request.query_params)
        events = selectors.alert_events(alert=alert, **query)
        fmt = wants_format(request)
        if fmt == "csv":  # every event of the range, written as the client reads it
            rows = (_event_row(e) for e in events.iterator(chunk_size=2000))
            return stream_csv(
                rows=rows,
                columns=EVENT_COLUMNS,
                filename=f"alert-{alert.pk}-events.csv",
                request=request,
            )
        if fmt == "xlsx":  # a workbook is built in memory: bounded
            chunk = list(events[: EVENTS_XLSX_MAX_ROWS + 1])
            if len(chunk) > EVENTS_XLSX_MAX_ROWS:
                raise exceptions.ValidationError(
                    {
                        "start": [
                            f"More than {EVENTS_XLSX_MAX_ROWS} events in this range: narrow it "
                            "or use format=csv (streamed)."
                        ]
                    }
                )
            self.export_filename = f"alert-{alert.pk}-events"
            return Response([_event_row(e) for e in chunk])
        page = self.paginate_queryset(events)
        return self.get_paginated_response(EventOut(page, many=True).data)


class AlertTestApi(_UserView):
    serializer_class = DryRunOut
    queryset = Alert.objects.none()

    @extend_schema(
        tags=TAGS_A,
        request=None,
        responses={200: DryRunOut(many=True)},
        summary="Dry run against current data: would it fire now, and why",
    )
    def post(self, request: Request, pk: int) -> Response:
        alert = _get(selectors.alert_get, user=request.user, pk=pk)
        return Response(DryRunOut(services.alert_dry_run(alert=alert), many=True).data)


class AlertsByCoinApi(_UserView):
    serializer_class = AlertOut

    @extend_schema(tags=TAGS_A, summary="My alerts on one coin (directly or via a watchlist)")
    def get(self, request: Request, symbol: str) -> Response:
        try:
            asset = market_selectors.asset_get(symbol)
        except market_selectors.AssetNotFound as exc:
            raise exceptions.NotFound(f"Unknown coin: {symbol}.") from exc
        qs = selectors.alert_list(user=request.user, asset_id=asset.pk)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(AlertOut(page, many=True).data)


# --- notifications --------------------------------------------------------------------------
class NotificationFilter(df.FilterSet):
    unread = df.BooleanFilter(field_name="read_at", lookup_expr="isnull")

    class Meta:
        model = Notification
        fields = ["unread"]


class NotificationListApi(_UserView):
    serializer_class = NotificationOut
    filterset_class = NotificationFilter

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return selectors.notification_list(user=self.request.user)

    @extend_schema(
        tags=TAGS_N,
        summary="My notifications (newest first)",
        responses=NotificationOut(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        resp = self.get_paginated_response(NotificationOut(page, many=True).data)
        resp.data["unread"] = selectors.notification_unread_count(user=request.user)
        return resp


UnreadOut = inline_serializer("UnreadCount", {"unread": serializers.IntegerField()})


class NotificationReadApi(_UserView):
    serializer_class = NotificationOut

    @extend_schema(tags=TAGS_N, request=None, responses={200: NotificationOut})
    def post(self, request: Request, pk: int) -> Response:
        note = _get(selectors.notification_list(user=request.user).get, pk=pk)
        return Response(NotificationOut(services.notification_mark_read(notification=note)).data)


class NotificationReadAllApi(_UserView):
    serializer_class = NotificationOut

    @extend_schema(
        tags=TAGS_N,
        request=None,
        responses={200: inline_serializer("ReadAll", {"marked": serializers.IntegerField()})},
    )
    def post(self, request: Request) -> Response:
        return Response({"marked": services.notifications_mark_all_read(user=request.user)})


class NotificationUnreadCountApi(_UserView):
    serializer_class = NotificationOut

    @extend_schema(tags=TAGS_N, responses={200: UnreadOut})
    def get(self, request: Request) -> Response:
        return Response({"unread": selectors.notification_unread_count(user=request.user)})


class PreferenceApi(_UserView):
    serializer_class = PreferenceIO

    @extend_schema(tags=TAGS_N, responses={200: PreferenceIO}, summary="My notification channels")
    def get(self, request: Request) -> Response:
        return Response(PreferenceIO(selectors.preference_of(user=request.user)).data)

    @extend_schema(tags=TAGS_N, request=PreferenceIO, responses={200: PreferenceIO})
    def patch(self, request: Request) -> Response:
        data = _valid(PreferenceIO, request.data)
        return Response(PreferenceIO(services.preference_update(user=request.user, **data)).data)


# --- webhooks -------------------------------------------------------------------------------
class WebhookListApi(_UserView):
    serializer_class = WebhookOut

    def get_queryset(self) -> QuerySet[Webhook]:
        if getattr(self, "swagger_fake_view", False):
            return Webhook.objects.none()
        return selectors.webhook_list(user=self.request.user)

    @extend_schema(
        tags=TAGS_N,
        summary="My webhooks",
        operation_id="webhooks_list",
        responses=WebhookOut(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WebhookOut(page, many=True).data)

    @extend_schema(
        tags=TAGS_N,
        request=WebhookIn,
        responses={201: WebhookCreatedOut},
        summary="Register an HTTPS webhook (the signing secret is in the answer)",
    )
    def post(self, request: Request) -> Response:
        data = _valid(WebhookIn, request.data)
        hook = services.webhook_create(user=request.user, url=data["url"])
        return Response(WebhookCreatedOut(hook).data, status=status.HTTP_201_CREATED)


class WebhookDetailApi(_UserView):
    serializer_class = WebhookOut

    def _object(self, pk: int) -> Webhook:
        return _get(selectors.webhook_get, user=self.request.user, pk=pk)

    @extend_schema(tags=TAGS_N, responses={200: WebhookCreatedOut})
    def get(self, request: Request, pk: int) -> Response:
        return Response(WebhookCreatedOut(self._object(pk)).data)

    @extend_schema(tags=TAGS_N, request=WebhookPatchIn, responses={200: WebhookOut})
    def patch(self, request: Request, pk: int) -> Response:
        hook = self._object(pk)
        data = _valid(WebhookPatchIn, request.data)
        return Response(WebhookOut(services.webhook_update(webhook=hook, **data)).data)

    @extend_schema(tags=TAGS_N, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        services.webhook_delete(webhook=self._object(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveriesApi(_UserView):
    serializer_class = DeliveryOut

    @extend_schema(tags=TAGS_N, summary="The webhook's delivery log (newest first)")
    def get(self, request: Request, pk: int) -> Response:
        hook = _get(selectors.webhook_get, user=request.user, pk=pk)
        page = self.paginate_queryset(selectors.webhook_deliveries(webhook=hook))
        return self.get_paginated_response(DeliveryOut(page, many=True).data)


# --- anomalies (market data, not owned: public like the other market endpoints) -------------
class AnomalyOut(serializers.ModelSerializer):
    coin = serializers.CharField(source="asset_id")
    symbol = serializers.CharField(source="asset.symbol")
    as_of = serializers.DateTimeField(source="open_time")

    class Meta:
        model = Anomaly
        fields = [
            "id",
            "coin",
            "symbol",
            "as_of",
            "kind",
            "score",
            "value",
            "source",
            "detected_at",
        ]


class AnomalyFilter(df.FilterSet):
    coin = df.CharFilter(method="_coin", max_length=100, help_text="coin id or symbol")
    kind = df.ChoiceFilter(choices=[("return", "return"), ("volume", "volume")])

    class Meta:
        model = Anomaly
        fields = ["coin", "kind"]

    def _coin(self, qs: QuerySet[Anomaly], name: str, value: str) -> QuerySet[Anomaly]:
        try:
            return qs.filter(asset_id=market_selectors.asset_get(value).pk)
        except market_selectors.AssetNotFound:
            return qs.none()


class AnomalyListApi(GenericAPIView):
    serializer_class = AnomalyOut
    filterset_class = AnomalyFilter
    queryset = Anomaly.objects.none()

    def get_queryset(self) -> QuerySet[Anomaly]:
        return selectors.anomaly_list()

    @extend_schema(
        tags=TAGS_A,
        summary="Unusual daily moves and volumes (robust z-score vs the previous 30 days)",
        responses=AnomalyOut(many=True),  # a GenericAPIView's get is not seen as a list
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(AnomalyOut(page, many=True).data)
