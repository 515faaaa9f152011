"""The browser sign-in (django-allauth's ``/accounts/login/``) asks a 2FA user for a code.

allauth runs a list of login stages after the password check; ``TotpStage`` is ours (the
project keeps TOTP in ``accounts`` with pyotp rather than allauth's ``mfa`` app, so the API,
the admin and the browser share one device, one replay guard and one lockout). The stage
redirects to ``MfaAuthenticateView``, which finishes the login only after a valid code.
"""

from __future__ import annotations

from typing import Any

from allauth.account.internal.decorators import login_stage_required
from allauth.account.stages import LoginStage
from allauth.core.internal.httpkit import headed_redirect_response
from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.generic.edit import FormView

from . import services
from .views import axes_lockout_response


class TotpStage(LoginStage):
    key = "cryptocast_totp"
    urlname = "accounts_mfa_authenticate"

    def handle(self) -> tuple[HttpResponse | None, bool]:
        user = self.login.user
        if user is not None and services.mfa_enabled(user):
            return headed_redirect_response(self.urlname), True
        return None, True


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Two-factor code",
        max_length=64,
        strip=True,
        help_text="From your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


@method_decorator(
    login_stage_required(stage=TotpStage.key, redirect_urlname="account_login"), name="dispatch"
)
class MfaAuthenticateView(FormView):
    template_name = "accounts/mfa_authenticate.html"
    form_class = CodeForm

    def form_valid(self, form: CodeForm) -> HttpResponse:
        request: HttpRequest = self.request
        stage = request._login_stage  # type: ignore[attr-defined]
        try:
            ok = services.mfa_code_check(
                request=request,
                user=stage.login.user,
                code=form.cleaned_data["code"],
                action="signin.mfa",
            )
        except services.AccountLocked:
            return axes_lockout_response(request, credentials={"email": stage.login.user.email})
        if not ok:
            form.add_error("code", "Invalid or already used code.")
            return self.form_invalid(form)
        return stage.exit()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(**kwargs)


mfa_authenticate = MfaAuthenticateView.as_view()
