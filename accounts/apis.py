"""REST endpoints of ``accounts`` (``/api/v1/auth/``): parse, authorise, call one service."""

from __future__ import annotations

from typing import Any

import structlog
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.base.constants import AuthProcess
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ServiceUnavailable
from core.pagination import BoundedCursorPagination
from core.parsers import BoundedJSONParser
from core.permissions import IsAdmin
from core.throttling import ScopedRateThrottle

from . import selectors, services
from .adapters import HANDOFF_STATE_KEY, GoogleRedirectAdapter
from .authentication import JWTAuthentication
from .lockout import axes_client_ip
from .models import ApiKey, AuditEvent, DataExport, User

TAGS = ["auth"]
log = structlog.get_logger("cryptocast.accounts")


# --- plumbing -------------------------------------------------------------------------------
class ObjectJSONParser(BoundedJSONParser):
    """Size-bounded JSON (413 past ``DATA_UPLOAD_MAX_MEMORY_SIZE``) that must be an object."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        if not isinstance(data, dict):
            raise exceptions.ParseError("JSON body must be an object.")
        return data


class AuthThrottle(ScopedRateThrottle):
    """Abuse dampening on the anonymous auth endpoints. The hard limit is axes' lockout in the
    database, so when the cache (Redis) is down this dampener steps aside (logged, see
    ``core.throttling``) instead of turning every sign-in into a 500."""


class NotApiKey(BasePermission):
    """Account management needs a user session or JWT: a leaked script key cannot mint more
    keys, change the password or delete the account."""

    message = "Not allowed with an API key."
    role_note = "not with an API key"  # shown in the role table (core.routes)

    def has_permission(self, request: Request, view: Any) -> bool:
        return not isinstance(request.auth, ApiKey)


class _PublicAuthView(GenericAPIView):
    """Anonymous endpoints: no session (so no CSRF surprises), JSON only, throttled."""

    authentication_classes: list = []
    permission_classes: list = []
    parser_classes = [ObjectJSONParser]
    throttle_classes = [AuthThrottle]
    throttle_scope = "auth"


class _UserView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [ObjectJSONParser]


class TokenInvalid(exceptions.APIException):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Token is invalid or expired."
    default_code = "token_not_valid"


def _client_ip(request: Request) -> str | None:
    return axes_client_ip(request._request)


def _google_error(exc: services.GoogleSignInRefused) -> exceptions.APIException:
    if exc.status == 503:
        return ServiceUnavailable(exc.detail, retry_after=30)
    error = exceptions.APIException(exc.detail, code=exc.code)
    error.status_code = exc.status
    return error


# --- serializers ----------------------------------------------------------------------------
class PairOut(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class UserOut(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()
    has_password = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "display_name",
            "email_verified",
            "role",
            "is_staff",
            "has_password",
            "date_joined",
            "last_login",
        ]
        read_only_fields = fields

    def get_role(self, obj: User) -> str:
        return services.user_role(obj)

    def get_has_password(self, obj: User) -> bool:
        return obj.has_usable_password()


class SignupIn(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=256, trim_whitespace=False, write_only=True)
    display_name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class SigninIn(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=256, trim_whitespace=False, write_only=True)


class RefreshIn(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class VerifyOut(serializers.Serializer):
    valid = serializers.BooleanField()
    user_id = serializers.IntegerField()
    expires_at = serializers.IntegerField(help_text="Access token expiry (epoch seconds).")


class MeIn(serializers.Serializer):
    display_name = serializers.CharField(max_length=150, allow_blank=True)


class PasswordChangeIn(serializers.Serializer):
    current_password = serializers.CharField(max_length=256, trim_whitespace=False)
    new_password = serializers.CharField(max_length=256, trim_whitespace=False)


class PasswordResetIn(serializers.Serializer):
    email = serializers.CharField(max_length=254)


class PasswordResetConfirmIn(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=256, trim_whitespace=False)


class DetailOut(serializers.Serializer):
    detail = serializers.CharField()


class EmailVerifyConfirmIn(serializers.Serializer):
    token = serializers.CharField(max_length=512)


class GoogleMobileIn(serializers.Serializer):
    id_token = serializers.CharField(max_length=8192)


_PKCE = r"^[A-Za-z0-9\-._~]{43,128}$"


class GoogleStartIn(serializers.Serializer):
    code_challenge = serializers.RegexField(
        r"^[A-Za-z0-9_\-]{43}$",
        help_text="base64url(SHA-256(code_verifier)) of a verifier the SPA keeps (RFC 7636 S256).",
    )
    code_challenge_method = serializers.ChoiceField(choices=["S256"], default="S256")


class GoogleExchangeIn(serializers.Serializer):
    code = serializers.CharField(max_length=200)
    code_verifier = serializers.RegexField(_PKCE, help_text="The verifier behind code_challenge.")


class ApiKeyOut(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class ApiKeyCreatedOut(ApiKeyOut):
    key = serializers.SerializerMethodField(help_text="Shown once; only a digest is stored.")

    class Meta(ApiKeyOut.Meta):
        fields = [*ApiKeyOut.Meta.fields, "key"]
        read_only_fields = fields

    def get_key(self, obj: ApiKey) -> str:
        return self.context["raw_key"]


class ApiKeyIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class WsTicketOut(serializers.Serializer):
    ticket = serializers.CharField()
    expires_at = serializers.DateTimeField()
    expires_in = serializers.IntegerField()


class MfaRequiredOut(serializers.Serializer):
    mfa_required = serializers.BooleanField(help_text="Always true: no tokens yet.")
    challenge = serializers.CharField(
        help_text="Single use, short-lived; POST it with a code to auth/signin/mfa."
    )
    expires_at = serializers.DateTimeField()
    expires_in = serializers.IntegerField()
    methods = serializers.ListField(child=serializers.CharField())


class MfaEnrolmentRequiredOut(serializers.Serializer):
    mfa_enrolment_required = serializers.BooleanField(
        help_text="Always true: staff must turn on 2FA (MFA_REQUIRED_FOR_STAFF) first."
    )
    enrol_token = serializers.CharField(
        help_text="A Bearer token for auth/mfa/totp and auth/mfa/totp/confirm only; no refresh."
    )
    expires_at = serializers.DateTimeField()
    expires_in = serializers.IntegerField()
    detail = serializers.CharField()


SigninResult = PolymorphicProxySerializer(
    component_name="SigninResult",
    serializers=[PairOut, MfaRequiredOut, MfaEnrolmentRequiredOut],
    resource_type_field_name=None,
)


class SigninMfaIn(serializers.Serializer):
    challenge = serializers.CharField(max_length=200)
    code = serializers.CharField(
        max_length=64, help_text="6-digit code from the app, or an unused recovery code."
    )


class MfaStatusOut(serializers.Serializer):
    totp_enabled = serializers.BooleanField()
    recovery_codes_left = serializers.IntegerField()


class TotpEnrolOut(serializers.Serializer):
    secret = serializers.CharField(help_text="Base32, for manual entry in the app.")
    otpauth_uri = serializers.CharField()
    qr_svg = serializers.CharField(help_text="The otpauth URI as an inline SVG QR code.")


class TotpConfirmIn(serializers.Serializer):
    code = serializers.CharField(max_length=16)


class ReauthIn(serializers.Serializer):
    code = serializers.CharField(max_length=64, required=False, allow_blank=True)
    password = serializers.CharField(
        max_length=256, required=False, allow_blank=True, trim_whitespace=False
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("code") and not attrs.get("password"):
            raise serializers.ValidationError(
                {"code": ["A current code (or recovery code) or the password is required."]}
            )
        return attrs


class RecoveryCodesOut(serializers.Serializer):
    recovery_codes = serializers.ListField(
        child=serializers.CharField(), help_text="Shown once; only digests are stored."
    )


class AuditEventOut(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "action",
            "outcome",
            "target_type",
            "target_id",
            "ip",
            "user_agent",
            "request_id",
            "data",
        ]
        read_only_fields = fields


class DataExportOut(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField(
        help_text="While ready and unexpired: GET it with the same Authorization header."
    )

    class Meta:
        model = DataExport
        fields = [
            "id",
            "status",
            "created_at",
            "finished_at",
            "expires_at",
            "size_bytes",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, obj: DataExport) -> str | None:
        if obj.status != DataExport.Status.READY or obj.expires_at <= timezone.now():
            return None
        path = reverse("accounts:me-export-file", kwargs={"export_id": obj.id})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class RoleOut(serializers.Serializer):
    user_id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=list(services.ROLES))


class RoleIn(serializers.Serializer):
    role = serializers.ChoiceField(choices=list(services.ROLES))


def _pair(pair: services.TokenPair) -> dict[str, str]:
    return {"access": pair.access, "refresh": pair.refresh}


def _signin_body(
    result: services.TokenPair | services.MfaChallengeIssued | services.EnrolTokenIssued,
) -> dict[str, Any]:
    if isinstance(result, services.EnrolTokenIssued):
        return {
            "mfa_enrolment_required": True,
            "enrol_token": result.token,
            "expires_at": result.expires_at,
            "expires_in": result.expires_in,
            "detail": "Two-factor authentication is required for staff. With this token as "
            "Bearer, POST auth/mfa/totp, then auth/mfa/totp/confirm with a code, then sign in "
            "again.",
        }
    if isinstance(result, services.MfaChallengeIssued):
        return {
            "mfa_required": True,
            "challenge": result.challenge,
            "expires_at": result.expires_at,
            "expires_in": result.expires_in,
            "methods": ["totp", "recovery_code"],
        }
    return _pair(result)


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- sign-up, sign-in, tokens ---------------------------------------------------------------
class SignupApi(_PublicAuthView):
    serializer_class = SignupIn

    @extend_schema(
        tags=TAGS, request=SignupIn, responses={201: UserOut}, summary="Create an account"
    )
    def post(self, request: Request) -> Response:
        data = _valid(SignupIn, request.data)
        user = services.user_signup(**data)
        return Response(UserOut(user).data, status=status.HTTP_201_CREATED)


class SigninApi(_PublicAuthView):
    serializer_class = SigninIn

    @extend_schema(
        tags=TAGS,
        request=SigninIn,
        responses={200: SigninResult},
        summary="Sign in with e-mail and password",
        description="Unknown e-mail and wrong password give the same 401. Too many failures "
        "(per account and per IP) give 429 with Retry-After. With two-factor "
        "authentication on, the answer is `mfa_required` with a single-use challenge "
        "(MFA_CHALLENGE_TTL_SECONDS) instead of tokens: POST it to auth/signin/mfa. With "
        "MFA_REQUIRED_FOR_STAFF, staff without 2FA get `mfa_enrolment_required` and an "
        "`enrol_token` that opens auth/mfa/totp[/confirm] only (MFA_ENROL_TOKEN_SECONDS).",
    )
    def post(self, request: Request) -> Response:
        data = _valid(SigninIn, request.data)
        result = services.user_signin(request=request._request, **data)
        return Response(_signin_body(result))


class SigninMfaApi(_PublicAuthView):
    serializer_class = SigninMfaIn

    @extend_schema(
        tags=TAGS,
        request=SigninMfaIn,
        responses={200: PairOut},
        summary="Second step of a 2FA sign-in: challenge + code for a token pair",
        description="A TOTP code works once (a replay inside its window is refused); a "
        "recovery code works once. Wrong codes count toward the account lockout (429 "
        "with Retry-After); the challenge stays usable until it expires or succeeds.",
    )
    def post(self, request: Request) -> Response:
        data = _valid(SigninMfaIn, request.data)
        pair = services.mfa_signin_complete(request=request._request, **data)
        return Response(_pair(pair))


class RefreshApi(_PublicAuthView):
    serializer_class = RefreshIn

    @extend_schema(
        tags=TAGS,
        request=RefreshIn,
        responses={200: PairOut},
        summary="Rotate a refresh token",
        description="The presented refresh token dies. Presenting it again revokes its whole "
        "family (every token descended from that sign-in).",
    )
    def post(self, request: Request) -> Response:
        data = _valid(RefreshIn, request.data)
        try:
            pair = services.token_refresh(raw=data["refresh"], ip=_client_ip(request))
        except services.TokenRejected as exc:
            raise TokenInvalid(exc.detail, code=exc.code) from exc
        return Response(_pair(pair))


class LogoutApi(_PublicAuthView):
    serializer_class = RefreshIn

    @extend_schema(
        tags=TAGS,
        request=RefreshIn,
        responses={204: None},
        summary="Sign out: revoke the refresh token's family (its access tokens too)",
    )
    def post(self, request: Request) -> Response:
        data = _valid(RefreshIn, request.data)
        try:
            services.token_family_revoke(raw=data["refresh"])
        except services.TokenRejected as exc:
            raise TokenInvalid(exc.detail, code=exc.code) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class VerifyTokenApi(APIView):
    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        responses={200: VerifyOut},
        summary="Check the access token in the Authorization header",
    )
    def get(self, request: Request) -> Response:
        token = request.auth
        return Response(
            {"valid": True, "user_id": request.user.pk, "expires_at": int(token["exp"])}
        )


# --- me -------------------------------------------------------------------------------------
class MeApi(_UserView):
    serializer_class = UserOut

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "DELETE":
            return [IsAuthenticated(), NotApiKey()]
        return super().get_permissions()

    @extend_schema(tags=TAGS, responses={200: UserOut}, summary="My profile")
    def get(self, request: Request) -> Response:
        return Response(UserOut(request.user).data)

    def _update(self, request: Request, *, partial: bool) -> Response:
        writable = set(MeIn().fields)
        refused = sorted(set(request.data) - writable)
        if refused:
            raise exceptions.ValidationError(
                {name: ["This field cannot be changed here."] for name in refused}
            )
        serializer = MeIn(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        user = request.user
        if "display_name" in serializer.validated_data:
            user = services.user_profile_update(
                user=user, display_name=serializer.validated_data["display_name"]
            )
        return Response(UserOut(user).data)

    @extend_schema(
        tags=TAGS,
        request=MeIn,
        responses={200: UserOut},
        summary="Replace my profile (display_name only; any other field is a 400)",
    )
    def put(self, request: Request) -> Response:
        return self._update(request, partial=False)

    @extend_schema(
        tags=TAGS,
        request=MeIn,
        responses={200: UserOut},
        summary="Edit my profile (display_name only; any other field is a 400)",
    )
    def patch(self, request: Request) -> Response:
        return self._update(request, partial=True)

    @extend_schema(
        tags=TAGS,
        responses={204: None},
        summary="Delete my account: deactivate now, revoke every token and key",
    )
    def delete(self, request: Request) -> Response:
        services.user_deactivate(user=request.user, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeApi(_UserView):
    permission_classes = [IsAuthenticated, NotApiKey]
    serializer_class = PasswordChangeIn

    @extend_schema(
        tags=TAGS,
        request=PasswordChangeIn,
        responses={200: PairOut},
        summary="Change my password; every refresh token is revoked, a new pair returned",
    )
    def put(self, request: Request) -> Response:
        data = _valid(PasswordChangeIn, request.data)
        pair = services.user_password_change(request=request._request, user=request.user, **data)
        return Response(_pair(pair))


class PasswordResetApi(_PublicAuthView):
    serializer_class = PasswordResetIn

    @extend_schema(
        tags=TAGS,
        request=PasswordResetIn,
        responses={200: DetailOut},
        summary="Mail a reset link (same answer whether or not the account exists)",
    )
    def post(self, request: Request) -> Response:
        data = _valid(PasswordResetIn, request.data)
        services.password_reset_request(email=data["email"])
        return Response(
            {"detail": "If an account exists for this e-mail, a reset link has been sent."}
        )


class PasswordResetConfirmApi(_PublicAuthView):
    serializer_class = PasswordResetConfirmIn

    @extend_schema(
        tags=TAGS,
        request=PasswordResetConfirmIn,
        responses={200: DetailOut},
        summary="Set a new password with the mailed uid and token",
    )
    def post(self, request: Request) -> Response:
        data = _valid(PasswordResetConfirmIn, request.data)
        services.password_reset_confirm(**data)
        return Response({"detail": "Password has been reset; sign in again."})


class EmailVerifyApi(_UserView):
    throttle_classes = [AuthThrottle]
    throttle_scope = "auth"
    serializer_class = DetailOut

    @extend_schema(
        tags=TAGS,
        request=None,
        responses={202: DetailOut, 200: DetailOut},
        summary="Mail me a link to confirm my e-mail address",
    )
    def post(self, request: Request) -> Response:
        if not services.email_verification_request(user=request.user):
            return Response({"detail": "E-mail address already verified."})
        return Response(
            {"detail": "A confirmation link has been sent."}, status=status.HTTP_202_ACCEPTED
        )


class EmailVerifyConfirmApi(_PublicAuthView):
    serializer_class = EmailVerifyConfirmIn

    @extend_schema(
        tags=TAGS,
        request=EmailVerifyConfirmIn,
        responses={200: DetailOut},
        summary="Confirm my e-mail address with the mailed code",
    )
    def post(self, request: Request) -> Response:
        data = _valid(EmailVerifyConfirmIn, request.data)
        services.email_verify_confirm(token=data["token"])
        return Response({"detail": "E-mail address verified."})


# --- Google ---------------------------------------------------------------------------------
_GOOGLE_503 = OpenApiResponse(
    description="Google sign-in is not configured, or Google's keys are unreachable (Retry-After)."
)
_google_callback = OAuth2CallbackView.adapter_view(GoogleRedirectAdapter)


class GoogleStartApi(_PublicAuthView):
    @extend_schema(
        tags=TAGS,
        request=None,
        parameters=[GoogleStartIn],
        responses={
            302: OpenApiResponse(description="Redirect to Google (state + PKCE)."),
            503: _GOOGLE_503,
        },
        summary="Start Google sign-in in the browser",
        description="Ends at OAUTH_SPA_REDIRECT_URL?code=<one-time code>; POST the code and "
        "the PKCE code_verifier to oauth/google/exchange for the token pair (tokens never "
        "travel in URLs; only the browser that started the flow can exchange the code).",
    )
    def get(self, request: Request) -> HttpResponse:
        start = _valid(GoogleStartIn, request.query_params)
        django_request = request._request
        try:
            provider = get_social_adapter(django_request).get_provider(django_request, "google")
        except SocialApp.DoesNotExist as exc:
            raise ServiceUnavailable("Google sign-in is not configured.", retry_after=3600) from exc
        return provider.redirect(
            django_request,
            process=AuthProcess.LOGIN,
            **{HANDOFF_STATE_KEY: start["code_challenge"]},
        )


class GoogleCallbackApi(_PublicAuthView):
    @extend_schema(
        tags=TAGS,
        request=None,
        parameters=[
            OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.QUERY),
            OpenApiParameter("state", OpenApiTypes.STR, OpenApiParameter.QUERY),
        ],
        responses={
            302: OpenApiResponse(description="To OAUTH_SPA_REDIRECT_URL?code=<one-time code>."),
            400: OpenApiResponse(description="State mismatch or Google refused (envelope)."),
            503: _GOOGLE_503,
        },
        summary="Google redirects here (handled by django-allauth)",
    )
    def get(self, request: Request) -> HttpResponse:
        django_request = request._request
        try:
            get_social_adapter(django_request).get_provider(django_request, "google")
        except SocialApp.DoesNotExist as exc:
            raise ServiceUnavailable("Google sign-in is not configured.", retry_after=3600) from exc
        return _google_callback(django_request)


class GoogleExchangeApi(_PublicAuthView):
    serializer_class = GoogleExchangeIn

    @extend_schema(
        tags=TAGS,
        request=GoogleExchangeIn,
        responses={200: SigninResult},
        summary="Exchange the one-time code (+ PKCE verifier) from the redirect flow for a pair",
    )
    def post(self, request: Request) -> Response:
        data = _valid(GoogleExchangeIn, request.data)
        user = services.oauth_handoff_consume(
            code=data["code"], code_verifier=data["code_verifier"]
        )
        if user is None:
            raise exceptions.ValidationError(
                {"code": ["Invalid, used or expired code, or a verifier that does not match."]}
            )
        result = services.signin_finish(request=request._request, user=user, method="google")
        return Response(_signin_body(result))


class GoogleMobileApi(_PublicAuthView):
    serializer_class = GoogleMobileIn

    @extend_schema(
        tags=TAGS,
        request=GoogleMobileIn,
        responses={200: SigninResult, 503: _GOOGLE_503},
        summary="Sign in with a Google ID token from a mobile or SPA client",
    )
    def post(self, request: Request) -> Response:
        data = _valid(GoogleMobileIn, request.data)
        try:
            claims = services.google_id_token_verify(
                credential=data["id_token"], audiences=services.google_audiences()
            )
            user = services.google_sign_in(claims=claims)
        except services.GoogleSignInRefused as exc:
            raise _google_error(exc) from exc
        result = services.signin_finish(request=request._request, user=user, method="google")
        return Response(_signin_body(result))


# --- API keys, WebSocket tickets ------------------------------------------------------------
class ApiKeyListCreateApi(_UserView):
    serializer_class = ApiKeyOut

    def get_queryset(self) -> QuerySet[ApiKey]:
        if getattr(self, "swagger_fake_view", False):
            return ApiKey.objects.none()
        return selectors.api_key_list(user=self.request.user)

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "POST":
            return [IsAuthenticated(), NotApiKey()]
        return super().get_permissions()

    @extend_schema(tags=TAGS, responses={200: ApiKeyOut(many=True)}, summary="My API keys")
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ApiKeyOut(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        request=ApiKeyIn,
        responses={201: ApiKeyCreatedOut},
        summary="Create an API key (the key is shown once)",
    )
    def post(self, request: Request) -> Response:
        data = _valid(ApiKeyIn, request.data)
        key, raw = services.api_key_create(
            user=request.user,
            name=data["name"],
            expires_at=data.get("expires_at"),
            request=request._request,
        )
        body = ApiKeyCreatedOut(key, context={"raw_key": raw}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyDeleteApi(_UserView):
    permission_classes = [IsAuthenticated]
    serializer_class = ApiKeyOut

    @extend_schema(tags=TAGS, responses={204: None}, summary="Revoke one of my API keys")
    def delete(self, request: Request, key_id: str) -> Response:
        services.api_key_revoke(user=request.user, key_id=key_id, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WsTicketApi(_UserView):
    serializer_class = WsTicketOut

    @extend_schema(
        tags=TAGS,
        request=None,
        responses={201: WsTicketOut},
        summary="A single-use ticket (<= 30 s) to open the WebSocket",
    )
    def post(self, request: Request) -> Response:
        ticket, expires_at = services.ws_ticket_issue(user=request.user)
        body = {
            "ticket": ticket,
            "expires_at": expires_at,
            "expires_in": services.codes.ws_ticket_ttl(),
        }
        return Response(WsTicketOut(body).data, status=status.HTTP_201_CREATED)


# --- two-factor authentication --------------------------------------------------------------
class _AccountView(_UserView):
    """Account security: a user's JWT or session, never an API key."""

    permission_classes = [IsAuthenticated, NotApiKey]


def _mfa_status(user: User) -> dict[str, Any]:
    return {
        "totp_enabled": services.mfa_enabled(user),
        "recovery_codes_left": services.recovery_codes_left(user=user),
    }


class TotpApi(_AccountView):
    serializer_class = MfaStatusOut

    @extend_schema(tags=TAGS, responses={200: MfaStatusOut}, summary="My 2FA status")
    def get(self, request: Request) -> Response:
        return Response(MfaStatusOut(_mfa_status(request.user)).data)

    @extend_schema(
        tags=TAGS,
        request=None,
        responses={201: TotpEnrolOut},
        summary="Start TOTP enrolment: a secret and its QR code (2FA is off until confirmed)",
        description="Calling it again before confirming replaces the secret. 409 when 2FA "
        "is already on.",
    )
    def post(self, request: Request) -> Response:
        enrolment = services.totp_enrol(user=request.user)
        body = {
            "secret": enrolment.secret,
            "otpauth_uri": enrolment.otpauth_uri,
            "qr_svg": enrolment.qr_svg,
        }
        return Response(TotpEnrolOut(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=TAGS,
        request=ReauthIn,
        responses={204: None},
        summary="Turn 2FA off (a current code, a recovery code or the password)",
    )
    def delete(self, request: Request) -> Response:
        data = _valid(ReauthIn, request.data)
        services.totp_disable(
            request=request._request,
            user=request.user,
            code=data.get("code") or None,
            password=data.get("password") or None,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TotpConfirmApi(_AccountView):
    serializer_class = TotpConfirmIn

    @extend_schema(
        tags=TAGS,
        request=TotpConfirmIn,
        responses={200: RecoveryCodesOut},
        summary="Confirm TOTP with a first code: 2FA on, recovery codes shown once",
    )
    def post(self, request: Request) -> Response:
        data = _valid(TotpConfirmIn, request.data)
        codes = services.totp_confirm(request=request._request, user=request.user, **data)
        return Response(RecoveryCodesOut({"recovery_codes": codes}).data)


class RecoveryCodesApi(_AccountView):
    serializer_class = ReauthIn

    @extend_schema(
        tags=TAGS,
        request=ReauthIn,
        responses={200: RecoveryCodesOut},
        summary="New recovery codes (the old ones stop working); shown once",
    )
    def post(self, request: Request) -> Response:
        data = _valid(ReauthIn, request.data)
        codes = services.recovery_codes_regenerate(
            request=request._request,
            user=request.user,
            code=data.get("code") or None,
            password=data.get("password") or None,
        )
        return Response(RecoveryCodesOut({"recovery_codes": codes}).data)


# --- audit log, data export -----------------------------------------------------------------
class AuditPagination(BoundedCursorPagination):
    page_size = 50
    max_page_size = 200
    ordering = ("-created_at", "-id")


class MeAuditApi(_UserView):
    serializer_class = AuditEventOut
    pagination_class = AuditPagination

    def get_queryset(self) -> QuerySet[AuditEvent]:
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        return selectors.audit_event_list(user=self.request.user)

    @extend_schema(
        tags=TAGS,
        responses={200: AuditEventOut(many=True)},
        summary="Security events of my account (sign-ins, 2FA, keys, exports), newest first",
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(AuditEventOut(page, many=True).data)


class MeExportApi(_AccountView):
    serializer_class = DataExportOut

    @extend_schema(
        tags=TAGS,
        request=None,
        responses={202: DataExportOut},
        summary="Start an export of everything held about me (a ZIP of JSON files)",
        description="One per ACCOUNTS_EXPORT_MIN_INTERVAL_MINUTES (429 with Retry-After); "
        "the file is deleted after ACCOUNTS_EXPORT_TTL_HOURS.",
    )
    def post(self, request: Request) -> Response:
        export = services.data_export_request(user=request.user, request=request._request)
        body = DataExportOut(export, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class MeExportDetailApi(_AccountView):
    serializer_class = DataExportOut

    @extend_schema(tags=TAGS, responses={200: DataExportOut}, summary="Status of one of my exports")
    def get(self, request: Request, export_id: str) -> Response:
        export = selectors.data_export_get(user=request.user, export_id=export_id)
        if export is None:
            raise exceptions.NotFound()
        return Response(DataExportOut(export, context={"request": request}).data)


class MeExportFileApi(_AccountView):
    @extend_schema(
        tags=TAGS,
        responses={
            (200, "application/zip"): OpenApiResponse(
                response=OpenApiTypes.BINARY, description="The ZIP."
            )
        },
        summary="Download one of my ready exports (until it expires)",
    )
    def get(self, request: Request, export_id: str) -> FileResponse:
        path, export = services.data_export_file(
            user=request.user, export_id=export_id, request=request._request
        )
        response = FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=export.file_name or "cryptocast-export.zip",
            content_type="application/zip",
        )
        response["Cache-Control"] = "no-store"
        return response


# --- roles (admin only) ---------------------------------------------------------------------
class AdminUserRoleApi(_AccountView):
    permission_classes = [IsAuthenticated, NotApiKey, IsAdmin]
    serializer_class = RoleOut

    def _user(self, user_id: int) -> User:
        user = selectors.user_for_admin(user_id=user_id)
        if user is None:
            raise exceptions.NotFound()
        return user

    def _body(self, user: User) -> dict[str, Any]:
        return RoleOut(
            {"user_id": user.pk, "email": user.email, "role": services.user_role(user)}
        ).data

    @extend_schema(tags=["admin"], responses={200: RoleOut}, summary="A user's role")
    def get(self, request: Request, user_id: int) -> Response:
        return Response(self._body(self._user(user_id)))

    @extend_schema(
        tags=["admin"],
        request=RoleIn,
        responses={200: RoleOut},
        summary="Set a user's role (user, analyst, staff, admin)",
        description="409 `last_admin` when it would leave no active administrator.",
    )
    def put(self, request: Request, user_id: int) -> Response:
        data = _valid(RoleIn, request.data)
        user = self._user(user_id)
        user = services.user_role_set(
            user=user, role=data["role"], actor=request.user, request=request._request
        )
        return Response(self._body(user))
