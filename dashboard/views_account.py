"""Account pages: sign-in (with 2FA), sign-up, sign-out, password reset, e-mail verification
and /account (profile, password, API keys, 2FA, Google link, deletion).

Every page is a CSRF-protected form over the same ``accounts`` services as the API, so the
checks, the lockout, the audit rows and the error texts are the API's; the only difference is
the end of a sign-in: a Django session (``django.contrib.auth.login``) instead of tokens.
Secrets shown once (a new API key, recovery codes, a TOTP secret) are rendered in the POST's
own answer with ``Cache-Control: no-store`` and never stored in the session.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework import exceptions

from accounts import selectors as account_selectors
from accounts import services as account_services
from core.throttling import ScopedRateThrottle

from .forms_account import (
    ApiKeyForm,
    DeleteAccountForm,
    PasswordChangeForm,
    PasswordResetRequestForm,
    ProfileForm,
    ReauthForm,
    ResetPasswordForm,
    SigninCodeForm,
    SigninForm,
    SignupForm,
    TotpConfirmForm,
    VerifyEmailForm,
)
from .views_alerts import signin_required

MFA_SESSION_KEY = "cc_signin_mfa"  # {"challenge": raw, "next": path} between the two steps
RESET_SENT = "If an account exists for this e-mail, a reset link has been sent."
LOCKED = "Too many failed sign-in attempts; try again later."


# --- helpers ----------------------------------------------------------------------------------
class _AuthScope:
    """The API's anonymous auth endpoints' throttle scope: one budget for both surfaces."""

    throttle_scope = "auth"


def auth_throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """POSTs count against the API's ``auth`` throttle (THROTTLE_AUTH, per client address);
    over it: 429 with Retry-After and DRF's wording. Fails open when the cache is down."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            throttle = ScopedRateThrottle()
            if not throttle.allow_request(request, _AuthScope()):  # type: ignore[arg-type]
                wait = max(1, math.ceil(throttle.wait() or 1))
                detail = str(exceptions.Throttled(wait=wait).detail)
                response = render(
                    request, "dashboard/throttled.html", {"detail": detail}, status=429
                )
                response["Retry-After"] = str(wait)
                return response
        return view(request, *args, **kwargs)

    return wrapper


def safe_next(request: HttpRequest, target: str | None, default: str = "/") -> str:
    """``target`` when it is a local path of this site, else ``default``."""
    target = target or ""
    ok = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if not ok or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def _messages_of(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [m for v in value.values() for m in _messages_of(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _messages_of(v)]
    return [str(value)]


def api_errors(form: forms.Form, exc: exceptions.APIException) -> None:
    """The API's error texts onto the form: field errors on the field of the same name,
    anything else above the form."""
    detail = exc.detail
    if isinstance(detail, dict):
        for field, value in detail.items():
            target = field if field in form.fields else None
            for text in _messages_of(value):
                form.add_error(target, text)
    else:
        for text in _messages_of(detail):
            form.add_error(None, text)


def _locked(request: HttpRequest, template: str, context: dict[str, Any], exc: Any) -> HttpResponse:
    """429 with Retry-After, as the API answers (axes may answer its own locked page)."""
    form = context["form"]
    form.add_error(None, LOCKED)
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(getattr(exc, "wait", None) or 1)
    return response


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


# --- sign-in ----------------------------------------------------------------------------------
@never_cache
@require_http_methods(["GET", "POST"])
@auth_throttled
def signin_page(request: HttpRequest) -> HttpResponse:
    template = "dashboard/signin.html"
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "GET" and request.user.is_authenticated:
        return HttpResponseRedirect(next_url)
    form = SigninForm(request.POST or None, initial={"next": next_url})
    context: dict[str, Any] = {
        "form": form,
        "next": next_url,
        "google_url": _google_url(next_url),
    }
    if request.method == "POST" and form.is_valid():
        try:
            issued = account_services.user_session_signin(
                request=request,
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
            )
        except account_services.AccountLocked as exc:
            return _locked(request, template, context, exc)
        except exceptions.APIException as exc:
            api_errors(form, exc)
            return render(request, template, context, status=exc.status_code)
        if issued is not None:
            request.session[MFA_SESSION_KEY] = {"challenge": issued.challenge, "next": next_url}
            return redirect("signin-code-page")
        return HttpResponseRedirect(next_url)
    return render(request, template, context, status=400 if form.errors else 200)


def _google_url(next_url: str) -> str | None:
    if not account_services.google_browser_configured():
        return None
    query = urlencode({"process": "login", "next": next_url})
    return f"{reverse('google_login')}?{query}"


@never_cache
@require_http_methods(["GET", "POST"])
@auth_throttled
def signin_code_page(request: HttpRequest) -> HttpResponse:
    template = "dashboard/signin_code.html"
    pending = request.session.get(MFA_SESSION_KEY) or {}
    if not pending.get("challenge"):
        messages.info(request, "Sign in with your e-mail and password first.")
        return redirect("signin-page")
    form = SigninCodeForm(request.POST or None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        try:
            account_services.mfa_signin_session(
                request=request, challenge=pending["challenge"], code=form.cleaned_data["code"]
            )
        except account_services.AccountLocked as exc:
            return _locked(request, template, context, exc)
        except account_services.MfaChallengeInvalid as exc:
            request.session.pop(MFA_SESSION_KEY, None)
            messages.error(request, str(exc.detail))
            return redirect("signin-page")
        except exceptions.APIException as exc:
            api_errors(form, exc)
            return render(request, template, context, status=exc.status_code)
        request.session.pop(MFA_SESSION_KEY, None)
        return HttpResponseRedirect(safe_next(request, pending.get("next")))
    return render(request, template, context, status=400 if form.errors else 200)


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "Signed out.")
    return redirect("dashboard")


# --- sign-up, reset, verification -------------------------------------------------------------
@never_cache
@require_http_methods(["GET", "POST"])
@auth_throttled
def signup_page(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account_services.user_signup(**form.cleaned_data)
        except exceptions.APIException as exc:
            api_errors(form, exc)
        else:
            messages.success(
                request,
                "Account created. We sent a link to confirm your e-mail address; sign in now.",
            )
            return redirect("signin-page")
    return render(
        request, "dashboard/signup.html", {"form": form}, status=400 if form.errors else 200
    )


@never_cache
@require_http_methods(["GET", "POST"])
@auth_throttled
def password_reset_page(request: HttpRequest) -> HttpResponse:
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account_services.password_reset_request(email=form.cleaned_data["email"])
        messages.success(request, RESET_SENT)
        return redirect("password-reset-page")
    return render(
        request,
        "dashboard/password_reset.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@auth_throttled
def reset_password_page(request: HttpRequest) -> HttpResponse:
    form = ResetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account_services.password_reset_confirm(**form.cleaned_data)
        except exceptions.APIException as exc:
            api_errors(form, exc)
        else:
            messages.success(request, "Password has been reset; sign in again.")
            return redirect("signin-page")
    return render(
        request, "dashboard/reset_password.html", {"form": form}, status=400 if form.errors else 200
    )


@never_cache
@require_http_methods(["GET", "POST"])
@auth_throttled
def verify_email_page(request: HttpRequest) -> HttpResponse:
    form = VerifyEmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account_services.email_verify_confirm(token=form.cleaned_data["token"])
        except exceptions.APIException as exc:
            api_errors(form, exc)
        else:
            messages.success(request, "E-mail address verified.")
            return redirect("account-page" if request.user.is_authenticated else "signin-page")
    return render(
        request, "dashboard/verify_email.html", {"form": form}, status=400 if form.errors else 200
    )


# --- /account ---------------------------------------------------------------------------------
def _account(request: HttpRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    user = request.user
    context: dict[str, Any] = {
        "account": user,
        "role": account_services.user_role(user),  # type: ignore[arg-type]
        "has_password": user.has_usable_password(),
        "api_keys": list(account_selectors.api_key_list(user=user)),  # type: ignore[arg-type]
        "mfa_on": account_services.mfa_enabled(user),  # type: ignore[arg-type]
        "recovery_left": account_services.recovery_codes_left(user=user),  # type: ignore[arg-type]
        "google": account_selectors.google_account_get(user=user),  # type: ignore[arg-type]
        "google_configured": account_services.google_browser_configured(),
        "profile_form": ProfileForm(initial={"display_name": user.display_name}),  # type: ignore[union-attr]
        "password_form": PasswordChangeForm(),
        "key_form": ApiKeyForm(),
        "confirm_form": TotpConfirmForm(),
        "disable_form": ReauthForm(prefix="disable"),
        "regen_form": ReauthForm(prefix="regen"),
        "delete_form": DeleteAccountForm(),
        "enrolment": None,
    }
    if not context["mfa_on"]:
        context["enrolment"] = account_services.totp_enrolment_pending(user=user)  # type: ignore[arg-type]
    context.update(extra)
    if context["enrolment"] is not None:  # inline <svg>: drop the XML declaration
        context["qr_svg"] = context["enrolment"].qr_svg.split("?>", 1)[-1]
    context["now"] = timezone.now()
    return _no_store(render(request, "dashboard/account.html", context, status=status))


def _fail(request: HttpRequest, name: str, form: forms.Form, exc: Exception) -> HttpResponse:
    if isinstance(exc, account_services.AccountLocked):
        form.add_error(None, LOCKED)
        response = _account(request, status=429, **{name: form})
        response["Retry-After"] = str(exc.wait or 1)
        return response
    assert isinstance(exc, exceptions.APIException)
    api_errors(form, exc)
    return _account(request, status=exc.status_code, **{name: form})


def _submitted(
    request: HttpRequest, name: str, form: forms.Form, act: Callable[[dict[str, Any]], Any]
) -> tuple[Any, HttpResponse | None]:
    """Validate ``form`` (the account page's form ``name``) and call ``act`` with its data:
    ``(result, None)``, or ``(None, the page again with the errors)`` — the API's messages."""
    if not form.is_valid():
        return None, _account(request, status=400, **{name: form})
    try:
        return act(form.cleaned_data), None
    except exceptions.APIException as exc:
        return None, _fail(request, name, form, exc)


def _done(request: HttpRequest, text: str, to: str = "account-page") -> HttpResponse:
    messages.success(request, text)
    return redirect(to)


@signin_required
@require_http_methods(["GET"])
def account_page(request: HttpRequest) -> HttpResponse:
    return _account(request)


@signin_required
@require_POST
def account_profile(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    _, failed = _submitted(
        request,
        "profile_form",
        ProfileForm(request.POST),
        lambda data: account_services.user_profile_update(user=user, **data),
    )
    return failed or _done(request, "Profile saved.")


@signin_required
@require_POST
def account_password(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    _, failed = _submitted(
        request,
        "password_form",
        PasswordChangeForm(request.POST),
        lambda data: account_services.user_password_change_session(
            request=request, user=user, **data
        ),
    )
    return failed or _done(
        request, "Password changed; every other session and token was signed out."
    )


@signin_required
@require_POST
def account_verify_email(request: HttpRequest) -> HttpResponse:
    if account_services.email_verification_request(user=request.user):  # type: ignore[arg-type]
        messages.success(request, "A confirmation link has been sent.")
    else:
        messages.info(request, "E-mail address already verified.")
    return redirect("account-page")


@signin_required
@require_POST
def api_key_create(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    created, failed = _submitted(
        request,
        "key_form",
        ApiKeyForm(request.POST),
        lambda data: account_services.api_key_create(user=user, name=data["name"], request=request),
    )
    if failed:
        return failed
    key, raw = created
    return _account(request, status=201, new_key={"key": key, "raw": raw})


@signin_required
@require_POST
def api_key_revoke(request: HttpRequest, key_id: str) -> HttpResponse:
    try:
        account_services.api_key_revoke(user=request.user, key_id=key_id, request=request)  # type: ignore[arg-type]
    except exceptions.NotFound:
        messages.error(request, "No such API key (or already revoked).")
    else:
        messages.success(request, "API key revoked.")
    return redirect("account-page")


@signin_required
@require_POST
def totp_enrol(request: HttpRequest) -> HttpResponse:
    try:
        enrolment = account_services.totp_enrol(user=request.user)  # type: ignore[arg-type]
    except exceptions.APIException as exc:
        messages.error(request, str(exc.detail))
        return redirect("account-page")
    return _account(request, enrolment=enrolment)


@signin_required
@require_POST
def totp_confirm(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    codes, failed = _submitted(
        request,
        "confirm_form",
        TotpConfirmForm(request.POST),
        lambda data: account_services.totp_confirm(request=request, user=user, code=data["code"]),
    )
    return failed or _account(
        request, recovery_codes=codes, codes_note="Two-factor authentication is on."
    )


@signin_required
@require_POST
def totp_disable(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    _, failed = _submitted(
        request,
        "disable_form",
        ReauthForm(request.POST, prefix="disable"),
        lambda data: account_services.totp_disable(request=request, user=user, **data),
    )
    return failed or _done(request, "Two-factor authentication is off.")


@signin_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    codes, failed = _submitted(
        request,
        "regen_form",
        ReauthForm(request.POST, prefix="regen"),
        lambda data: account_services.recovery_codes_regenerate(request=request, user=user, **data),
    )
    return failed or _account(
        request, recovery_codes=codes, codes_note="New recovery codes; the old ones no longer work."
    )


@signin_required
@require_POST
def google_unlink(request: HttpRequest) -> HttpResponse:
    try:
        unlinked = account_services.google_unlink(user=request.user, request=request)  # type: ignore[arg-type]
    except exceptions.APIException as exc:
        for text in _messages_of(exc.detail):
            messages.error(request, text)
        return redirect("account-page")
    if unlinked:
        messages.success(request, "Google account unlinked.")
    else:
        messages.info(request, "No Google account is linked.")
    return redirect("account-page")


@signin_required
@require_POST
def account_delete(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    _, failed = _submitted(
        request,
        "delete_form",
        DeleteAccountForm(request.POST),
        lambda data: account_services.user_delete_confirmed(request=request, user=user, **data),
    )
    return failed or _done(
        request, "Your account is deleted: signed out, every token and key revoked.", "dashboard"
    )
