"""Forms of the account pages. Field names are the API's (``accounts.apis``), so the API's
field errors land on the same fields; the services do every check that matters."""

from __future__ import annotations

from typing import Any

from django import forms


def _password(label: str, autocomplete: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


def _code(label: str = "Code", *, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=64,
        required=required,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"}
        ),
    )


class SigninForm(forms.Form):
    email = forms.CharField(
        label="E-mail",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    password = _password("Password", "current-password")
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)


class SigninCodeForm(forms.Form):
    code = _code("Two-factor code or recovery code")


class SignupForm(forms.Form):
    email = forms.CharField(
        label="E-mail", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    display_name = forms.CharField(
        label="Display name",
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    password = _password("Password", "new-password")


class PasswordResetRequestForm(forms.Form):
    email = forms.CharField(
        label="E-mail", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class ResetPasswordForm(forms.Form):
    uid = forms.CharField(label="uid", max_length=64)
    token = forms.CharField(label="token", max_length=128)
    new_password = _password("New password", "new-password")


class VerifyEmailForm(forms.Form):
    token = forms.CharField(label="Code", max_length=512)


class ProfileForm(forms.Form):
    display_name = forms.CharField(label="Display name", max_length=150, required=False)


class PasswordChangeForm(forms.Form):
    current_password = _password("Current password", "current-password")
    new_password = _password("New password", "new-password")


class ApiKeyForm(forms.Form):
    name = forms.CharField(label="Key name", max_length=100)


class TotpConfirmForm(forms.Form):
    code = _code("6-digit code from the app")


_PASSWORD = {
    "max_length": 256,
    "required": False,
    "strip": False,
    "widget": forms.PasswordInput(attrs={"autocomplete": "current-password"}),
}


class ReauthForm(forms.Form):
    """A current 2FA code (or recovery code) or the password, as the API's ``ReauthIn``."""

    code = _code("Current code or recovery code", required=False)
    password = forms.CharField(label="or the password", **_PASSWORD)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["code"] = data.get("code") or None
        data["password"] = data.get("password") or None
        if not self.errors and not data["code"] and not data["password"]:
            self.add_error("code", "A current code (or recovery code) or the password is required.")
        return data


class DeleteAccountForm(forms.Form):
    password = forms.CharField(label="Password", **_PASSWORD)
    code = _code("or a current 2FA code", required=False)
    confirm_email = forms.CharField(
        label="Type your e-mail address", max_length=254, required=False
    )
