"""Google sign-in against a loopback stub of Google's token and JWKS endpoints."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pytest
from allauth.socialaccount.models import SocialAccount

from .conftest import GOOGLE_MOBILE_CLIENT_ID, GOOGLE_WEB_CLIENT_ID

pytestmark = pytest.mark.django_db

MOBILE = "/api/v1/auth/oauth/google/mobile"


def mobile(api_client, id_token):
    return api_client.post(MOBILE, {"id_token": id_token}, format="json")


def me(api_client, access):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    try:
        return api_client.get("/api/v1/auth/me").json()
    finally:
        api_client.credentials()


# --- mobile / SPA: ID token ------------------------------------------------------------------
def test_mobile_id_token_creates_a_verified_user_and_returns_our_pair(api_client, google):
    response = mobile(api_client, google.id_token(aud=GOOGLE_MOBILE_CLIENT_ID))
    assert response.status_code == 200, response.content
    profile = me(api_client, response.json()["access"])
    assert profile["email"] == "gina@example.com"
    assert profile["email_verified"] is True
    assert profile["has_password"] is False
    assert SocialAccount.objects.get(provider="google").uid == "109876543210"


def test_mobile_sign_in_is_linked_by_sub_not_by_email(api_client, google):
    first = mobile(api_client, google.id_token())
    # same Google account, e-mail changed at Google: still the same local user
    again = mobile(api_client, google.id_token(email="gina.new@example.com"))
    assert (
        me(api_client, first.json()["access"])["id"] == me(api_client, again.json()["access"])["id"]
    )


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"aud": "someone-elses-client.apps.googleusercontent.com"}, "wrong audience"),
        ({"exp": int(time.time()) - 60, "iat": int(time.time()) - 3700}, "expired"),
        ({"iss": "https://evil.example.com"}, "wrong issuer"),
        ({"sub": None}, "no subject"),
    ],
)
def test_mobile_refuses_bad_claims(api_client, google, claims, why):
    response = mobile(api_client, google.id_token(**claims))
    assert response.status_code == 400, why
    assert response.json()["errors"][0]["code"] == "invalid_token"
    assert not SocialAccount.objects.exists()


def test_mobile_refuses_a_bad_signature(api_client, google, other_rsa_key):
    response = mobile(api_client, google.id_token(key=other_rsa_key))
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_token"


def test_mobile_refuses_an_unknown_key_id_and_unsigned_tokens(api_client, google):
    assert mobile(api_client, google.id_token(kid="unknown-kid")).status_code == 400
    import jwt

    unsigned = jwt.encode({"sub": "1", "aud": GOOGLE_WEB_CLIENT_ID}, key=None, algorithm="none")
    assert mobile(api_client, unsigned).status_code == 400
    assert mobile(api_client, "garbage").status_code == 400


def test_mobile_refuses_an_unverified_google_email(api_client, google):
    response = mobile(api_client, google.id_token(email_verified=False))
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "email_not_verified"


def test_google_never_takes_over_an_unverified_local_account(api_client, google, make_user):
    local = make_user(email="gina@example.com")  # e-mail never verified locally
    response = mobile(api_client, google.id_token())
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "account_exists"
    assert not SocialAccount.objects.filter(user=local).exists()


def test_google_links_to_a_local_account_when_both_sides_verified(api_client, google, make_user):
    local = make_user(email="gina@example.com", email_verified=True)
    response = mobile(api_client, google.id_token())
    assert response.status_code == 200
    assert me(api_client, response.json()["access"])["id"] == local.pk
    assert SocialAccount.objects.get(user=local).uid == "109876543210"


def test_mobile_answers_503_when_google_keys_are_unreachable(google, settings):
    from rest_framework.test import APIClient

    settings.GOOGLE_OAUTH_JWKS_URL = "http://127.0.0.1:9/certs"  # discard port: refused
    # 5xx are reported through got_request_exception, which the test client would re-raise
    response = mobile(APIClient(raise_request_exception=False), google.id_token())
    assert response.status_code == 503
    assert "Retry-After" in response


def test_mobile_answers_503_when_google_is_not_configured(google, settings):
    from rest_framework.test import APIClient

    settings.GOOGLE_OAUTH_CLIENT_ID = ""
    settings.GOOGLE_OAUTH_MOBILE_CLIENT_IDS = []
    response = mobile(APIClient(raise_request_exception=False), google.id_token())
    assert response.status_code == 503


# --- browser: redirect flow through django-allauth ------------------------------------------
VERIFIER = "spa-kept-verifier-" + "v" * 40  # the SPA's own PKCE verifier (43..128 chars)


def start(client, verifier: str = VERIFIER):  # type: ignore[no-untyped-def]
    from accounts.services.codes import pkce_challenge

    response = client.get(
        "/api/v1/auth/oauth/google",
        {"code_challenge": pkce_challenge(verifier), "code_challenge_method": "S256"},
    )
    assert response.status_code == 302, response.content
    location = urlparse(response["Location"])
    return location, parse_qs(location.query)


def exchange(api_client, code, verifier: str = VERIFIER):  # type: ignore[no-untyped-def]
    return api_client.post(
        "/api/v1/auth/oauth/google/exchange",
        {"code": code, "code_verifier": verifier},
        format="json",
    )


def test_redirect_flow_uses_state_and_pkce_and_ends_with_a_one_time_code(
    client, api_client, google
):
    location, query = start(client)
    assert location.path == "/authorize"
    assert query["client_id"] == [GOOGLE_WEB_CLIENT_ID]
    assert query["redirect_uri"] == ["http://testserver/api/v1/auth/oauth/google/callback"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"][0]
    state = query["state"][0]

    callback = client.get(
        "/api/v1/auth/oauth/google/callback", {"code": "good-code", "state": state}
    )
    assert callback.status_code == 302, callback.content
    landing = urlparse(callback["Location"])
    assert landing.netloc == "spa.example.com"
    assert "#" not in callback["Location"]
    params = parse_qs(landing.query)
    assert set(params) == {"code"}  # a one-time code, never a token
    assert "ey" not in params["code"][0][:2]

    # the token exchange carried the PKCE verifier (and our callback URL)
    sent = google.token_requests[-1]
    assert sent["code_verifier"][0]
    assert sent["redirect_uri"] == ["http://testserver/api/v1/auth/oauth/google/callback"]

    code = params["code"][0]
    exchanged = exchange(api_client, code)
    assert exchanged.status_code == 200
    assert me(api_client, exchanged.json()["access"])["email"] == "gina@example.com"
    # single use
    again = exchange(api_client, code)
    assert again.status_code == 400
    assert again.json()["errors"][0]["attr"] == "code"


def test_hand_off_code_only_works_with_the_starting_browsers_verifier(client, api_client, google):
    """Login CSRF: a code obtained by someone else cannot be exchanged by a victim's SPA,
    which holds a different verifier (or none)."""
    _, query = start(client)
    callback = client.get(
        "/api/v1/auth/oauth/google/callback", {"code": "good-code", "state": query["state"][0]}
    )
    code = parse_qs(urlparse(callback["Location"]).query)["code"][0]
    wrong = exchange(api_client, code, verifier="another-browsers-verifier-" + "w" * 30)
    assert wrong.status_code == 400
    missing = api_client.post("/api/v1/auth/oauth/google/exchange", {"code": code}, format="json")
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["attr"] == "code_verifier"
    assert exchange(api_client, code).status_code == 200


def test_redirect_flow_start_requires_a_pkce_challenge(client, google):
    response = client.get("/api/v1/auth/oauth/google")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "code_challenge"


def test_redirect_flow_refuses_a_state_mismatch(client, google):
    start(client)
    response = client.get(
        "/api/v1/auth/oauth/google/callback", {"code": "good-code", "state": "forged-state"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "state_mismatch"
    assert google.token_requests == []  # never even talked to Google
    assert not SocialAccount.objects.exists()


def test_redirect_flow_state_is_single_use(client, google):
    _, query = start(client)
    state = query["state"][0]
    first = client.get("/api/v1/auth/oauth/google/callback", {"code": "good-code", "state": state})
    assert first.status_code == 302
    replay = client.get("/api/v1/auth/oauth/google/callback", {"code": "good-code", "state": state})
    assert replay.status_code == 400


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"aud": "someone-elses-client.apps.googleusercontent.com"}, "wrong audience"),
        ({"exp": int(time.time()) - 60, "iat": int(time.time()) - 3700}, "expired"),
    ],
)
def test_redirect_flow_refuses_bad_id_tokens(client, google, claims, why):
    google.id_token_claims = claims
    _, query = start(client)
    response = client.get(
        "/api/v1/auth/oauth/google/callback", {"code": "good-code", "state": query["state"][0]}
    )
    assert response.status_code == 400, why
    assert response.json()["errors"][0]["code"] == "oauth_failed"
    assert not SocialAccount.objects.exists()


def test_redirect_flow_refuses_a_code_google_rejects(client, google):
    _, query = start(client)
    response = client.get(
        "/api/v1/auth/oauth/google/callback", {"code": "stolen-code", "state": query["state"][0]}
    )
    assert response.status_code == 400
    assert not SocialAccount.objects.exists()


def test_redirect_flow_applies_the_takeover_rule(client, google, make_user):
    make_user(email="gina@example.com")
    _, query = start(client)
    response = client.get(
        "/api/v1/auth/oauth/google/callback", {"code": "good-code", "state": query["state"][0]}
    )
    assert response.status_code == 409
    assert not SocialAccount.objects.exists()


def test_redirect_flow_start_is_503_when_not_configured(settings):
    from django.test import Client

    settings.SOCIALACCOUNT_PROVIDERS = {"google": {"APPS": []}}
    response = Client(raise_request_exception=False).get(
        "/api/v1/auth/oauth/google", {"code_challenge": "c" * 43}
    )
    assert response.status_code == 503


def test_allauth_browser_login_with_google_gets_a_session_not_a_code(client, google):
    """The dashboard's allauth page goes through the same callback and linking policy, and
    ends with a Django session (no hand-off code)."""
    response = client.post("/accounts/google/login/?process=login")
    assert response.status_code == 302, response.content
    query = parse_qs(urlparse(response["Location"]).query)
    assert query["redirect_uri"] == ["http://testserver/api/v1/auth/oauth/google/callback"]
    callback = client.get(
        "/api/v1/auth/oauth/google/callback", {"code": "good-code", "state": query["state"][0]}
    )
    assert callback.status_code == 302, callback.content
    assert "code=" not in callback["Location"]
    account = SocialAccount.objects.get(provider="google")
    assert client.session.get("_auth_user_id") == str(account.user_id)
