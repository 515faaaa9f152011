"""Signed-in pages: watchlists, alerts and notifications (forms over the alerts services).

Anonymous visitors go to the sign-in page (``/signin?next=...``). Objects are looked up through
the owner-scoped selectors, so another user's watchlist, alert or notification is a 404.
Every write is a POST form with CSRF; each answers with a redirect (post/redirect/get).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from alerts import selectors as alert_selectors
from alerts import services as alert_services
from markets import selectors as market_selectors

from .forms import AddToWatchlistForm, AlertForm, WatchlistForm, adopt

SIGNIN_URL = "/signin"
EVENTS_SHOWN = 5
NOTIFICATIONS_SHOWN = 100


def signin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), SIGNIN_URL)
        return view(request, *args, **kwargs)

    return wrapper


def _own(getter: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return getter(**kwargs)
    except ObjectDoesNotExist:
        raise Http404("Not found") from None


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Back to ``next`` when it is a path of this site, else to ``default``."""
    target = request.POST.get("next") or ""
    ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    if not ok or not target.startswith("/") or urlsplit(target).netloc:
        target = default
    return HttpResponseRedirect(target)


def _error_text(error: ValidationError) -> str:
    return "; ".join(str(m) for m in error.messages)


# --- watchlists -------------------------------------------------------------------------------
def _watchlist_rows(user: Any) -> list[dict[str, Any]]:
    lists = list(alert_selectors.watchlist_list(user=user))
    ids = sorted({i.asset_id for w in lists for i in w.items.all()})
    quotes = {q["id"]: q for q in market_selectors.latest_quote_payloads(ids=ids)} if ids else {}
    return [
        {
            "watchlist": w,
            "coins": [{"item": i, "quote": quotes.get(i.asset_id)} for i in w.items.all()],
            "coin_text": ", ".join(i.asset_id for i in w.items.all()),
        }
        for w in lists
    ]


@signin_required
@require_http_methods(["GET", "POST"])
def watchlists_page(request: HttpRequest) -> HttpResponse:
    form = WatchlistForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            w = alert_services.watchlist_create(
                user=request.user, name=form.cleaned_data["name"], coins=form.coin_ids()
            )
        except ValidationError as exc:
            adopt(form, exc)
        else:
            messages.success(request, f"Watchlist “{w.name}” created.")
            return HttpResponseRedirect("/watchlists")
    return render(
        request,
        "dashboard/watchlists.html",
        {"rows": _watchlist_rows(request.user), "form": form},
        status=400 if form.errors else 200,
    )


@signin_required
@require_POST
def watchlist_edit(request: HttpRequest, pk: int) -> HttpResponse:
    w = _own(alert_selectors.watchlist_get, user=request.user, pk=pk)
    form = WatchlistForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the watchlist a name (at most 100 characters).")
        return HttpResponseRedirect("/watchlists")
    try:
        alert_services.watchlist_update(
            watchlist=w, name=form.cleaned_data["name"], coins=form.coin_ids()
        )
    except ValidationError as exc:
        messages.error(request, f"Not saved: {_error_text(exc)}")
    else:
        messages.success(request, f"Watchlist “{w.name}” saved.")
    return HttpResponseRedirect("/watchlists")


@signin_required
@require_POST
def watchlist_delete(request: HttpRequest, pk: int) -> HttpResponse:
    w = _own(alert_selectors.watchlist_get, user=request.user, pk=pk)
    name = w.name
    alert_services.watchlist_delete(watchlist=w)
    messages.success(request, f"Watchlist “{name}” deleted.")
    return HttpResponseRedirect("/watchlists")


@signin_required
@require_POST
def watchlist_add(request: HttpRequest) -> HttpResponse:
    """Add one coin to a watchlist (or to a new one): the coin page's button."""
    form = AddToWatchlistForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a watchlist.")
        return _back(request, "/watchlists")
    coin, choice = form.cleaned_data["coin"], form.cleaned_data["watchlist"]
    try:
        if choice == "new":
            name = form.cleaned_data["new_name"].strip() or "My watchlist"
            w = alert_services.watchlist_create(user=request.user, name=name, coins=[coin])
        else:
            if not choice.isdigit():
                raise Http404("Not found")
            w = _own(alert_selectors.watchlist_get, user=request.user, pk=int(choice))
            coins = [i.asset_id for i in w.items.all()]
            alert_services.watchlist_update(watchlist=w, coins=[*coins, coin])
    except ValidationError as exc:
        messages.error(request, f"Not added: {_error_text(exc)}")
    else:
        messages.success(request, f"Added {coin} to “{w.name}”.")
    return _back(request, "/watchlists")


@signin_required
@require_POST
def watchlist_remove(request: HttpRequest, pk: int) -> HttpResponse:
    w = _own(alert_selectors.watchlist_get, user=request.user, pk=pk)
    coin = request.POST.get("coin", "")
    coins = [i.asset_id for i in w.items.all() if i.asset_id != coin]
    alert_services.watchlist_update(watchlist=w, coins=coins)
    messages.success(request, f"Removed {coin} from “{w.name}”.")
    return HttpResponseRedirect("/watchlists")


# --- alerts -----------------------------------------------------------------------------------
def _alert_rows(user: Any) -> list[dict[str, Any]]:
    rows = []
    for a in alert_selectors.alert_list(user=user):
        rows.append(
            {
                "alert": a,
                "description": alert_services.alert_description(a),
                "states": list(a.states.all()),
                "events": list(alert_selectors.alert_events(alert=a)[:EVENTS_SHOWN]),
            }
        )
    return rows


def _create_alert(request: HttpRequest, form: AlertForm) -> Any:
    coin = (form.cleaned_data.get("coin") or "").strip()
    watchlist_id = request.POST.get("watchlist") or ""
    fields = form.fields_for_service()
    if watchlist_id.isdigit() and not coin:
        w = _own(alert_selectors.watchlist_get, user=request.user, pk=int(watchlist_id))
        return alert_services.alert_create(user=request.user, watchlist=w, **fields)
    if not coin:
        raise ValidationError({"coin": ["Give a coin (or a watchlist)."]})
    try:
        asset = market_selectors.asset_get(coin)
    except market_selectors.AssetNotFound:
        raise ValidationError({"coin": [f"Unknown coin: {coin}."]}) from None
    return alert_services.alert_create(user=request.user, asset_id=asset.pk, **fields)


@signin_required
@require_http_methods(["GET", "POST"])
def alerts_page(request: HttpRequest) -> HttpResponse:
    initial = {"coin": request.GET.get("coin", ""), "kind": "crosses_above"}
    form = AlertForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            alert = _create_alert(request, form)
        except ValidationError as exc:
            adopt(form, exc)
            if request.POST.get("next"):  # from the coin page: say why, there
                messages.error(request, f"Alert not set: {_error_text(exc)}")
                return _back(request, "/alerts")
        else:
            messages.success(request, f"Alert set: {alert_services.alert_description(alert)}.")
            return _back(request, "/alerts")
    return render(
        request,
        "dashboard/alerts.html",
        {
            "rows": _alert_rows(request.user),
            "form": form,
            "watchlists": list(alert_selectors.watchlist_list(user=request.user)),
        },
        status=400 if form.errors else 200,
    )


@signin_required
@require_http_methods(["GET", "POST"])
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _own(alert_selectors.alert_get, user=request.user, pk=pk)
    form = AlertForm(request.POST or None, initial=AlertForm.initial_of(alert))
    if request.method == "POST" and form.is_valid():
        try:
            alert_services.alert_update(alert=alert, **form.fields_for_service())
        except ValidationError as exc:
            adopt(form, exc)
        else:
            messages.success(request, "Alert saved.")
            return HttpResponseRedirect(f"/alerts/{alert.pk}")
    return render(
        request,
        "dashboard/alert_detail.html",
        {
            "alert": alert,
            "description": alert_services.alert_description(alert),
            "states": list(alert.states.all()),
            "events": list(alert_selectors.alert_events(alert=alert)[:50]),
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@signin_required
@require_POST
def alert_status(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _own(alert_selectors.alert_get, user=request.user, pk=pk)
    status = request.POST.get("status", "")
    try:
        alert_services.alert_update(alert=alert, status=status)
    except ValidationError as exc:
        messages.error(request, f"Not changed: {_error_text(exc)}")
    else:
        messages.success(request, "Alert paused." if status == "paused" else "Alert resumed.")
    return _back(request, "/alerts")


@signin_required
@require_POST
def alert_delete(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _own(alert_selectors.alert_get, user=request.user, pk=pk)
    alert_services.alert_delete(alert=alert)
    messages.success(request, "Alert deleted.")
    return HttpResponseRedirect("/alerts")


# --- notifications ----------------------------------------------------------------------------
@signin_required
def notifications_page(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    notes = alert_selectors.notification_list(
        user=request.user, unread=True if unread_only else None
    )
    return render(
        request,
        "dashboard/notifications.html",
        {
            "notifications": list(notes[:NOTIFICATIONS_SHOWN]),
            "unread_only": unread_only,
            "unread": alert_selectors.notification_unread_count(user=request.user),
        },
    )


@signin_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    note = _own(alert_selectors.notification_list(user=request.user).get, pk=pk)
    alert_services.notification_mark_read(notification=note)
    return _back(request, "/notifications")


@signin_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    n = alert_services.notifications_mark_all_read(user=request.user)
    messages.success(request, f"{n} notification{'s' if n != 1 else ''} marked read.")
    return _back(request, "/notifications")


def coin_actions(request: HttpRequest, asset: Any, price: float | None) -> dict[str, Any]:
    """What the coin page's watch and alert buttons need (nothing for anonymous visitors)."""
    if not request.user.is_authenticated:
        return {"signed_in": False}
    lists = list(alert_selectors.watchlist_list(user=request.user))
    return {
        "signed_in": True,
        "watchlists": [
            {"watchlist": w, "has": any(i.asset_id == asset.pk for i in w.items.all())}
            for w in lists
        ],
        "alerts": [
            {"alert": a, "description": alert_services.alert_description(a)}
            for a in alert_selectors.alert_list(user=request.user, asset_id=asset.pk)[:5]
        ],
        "price": price,
    }
