"""Fixtures for accounts: users with known passwords, token pairs, and a loopback stub of
Google's token and JWKS endpoints signing with a locally generated RSA key."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

PASSWORD = "correct-horse-battery-9"
GOOGLE_WEB_CLIENT_ID = "web-client.apps.googleusercontent.com"
GOOGLE_MOBILE_CLIENT_ID = "android-client.apps.googleusercontent.com"


@pytest.fixture(autouse=True)
def _fast_argon2(settings):  # type: ignore[no-untyped-def]
    """The production hasher (``accounts.hashers``) with tiny cost parameters: same algorithm
    and ``argon2$argon2id$`` prefix, ~2 ms per hash instead of ~28 ms."""
    settings.ARGON2_TIME_COST, settings.ARGON2_MEMORY_KIB = 1, 1024


def strip_request_id(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "request_id"}


@pytest.fixture
def make_user(django_user_model):  # type: ignore[no-untyped-def]
    def make(email: str = "bob@example.com", password: str | None = PASSWORD, **extra: Any):
        return django_user_model.objects.create_user(email=email, password=password, **extra)

    return make


@pytest.fixture
def signin(api_client):  # type: ignore[no-untyped-def]
    def do(email: str, password: str = PASSWORD, ip: str = "127.0.0.1"):
        return api_client.post(
            "/api/v1/auth/signin",
            {"email": email, "password": password},
            format="json",
            REMOTE_ADDR=ip,
        )

    return do


@pytest.fixture
def pair(user, signin) -> dict[str, str]:  # type: ignore[no-untyped-def]
    response = signin(user.email)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class GoogleStub:
    """Google's token endpoint (records each request) and JWKS, served on 127.0.0.1."""

    kid = "stub-key-1"

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self.key = key
        self.token_requests: list[dict[str, list[str]]] = []
        self.id_token_claims: dict[str, Any] = {}
        self.base_url = ""

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    def id_token(
        self, *, key: rsa.RSAPrivateKey | None = None, kid: str | None = None, **overrides: Any
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": "https://accounts.google.com",
            "aud": GOOGLE_WEB_CLIENT_ID,
            "sub": "109876543210",
            "email": "gina@example.com",
            "email_verified": True,
            "name": "Gina",
            "iat": now,
            "exp": now + 3600,
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(
            claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )


@pytest.fixture
def google(rsa_key, settings) -> Iterator[GoogleStub]:  # type: ignore[no-untyped-def]
    stub = GoogleStub(rsa_key)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/certs":
                self._send(stub.jwks())
            else:
                self._send({"error": "not_found"}, 404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            stub.token_requests.append(form)
            if self.path != "/token" or form.get("code") != ["good-code"]:
                self._send({"error": "invalid_grant"}, 400)
                return
            self._send(
                {
                    "access_token": "stub-access-token",
                    "token_type": "Bearer",
                    "expires_in": 3599,
                    "id_token": stub.id_token(**stub.id_token_claims),
                }
            )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    stub.base_url = f"http://127.0.0.1:{server.server_address[1]}"

    settings.GOOGLE_OAUTH_CLIENT_ID = GOOGLE_WEB_CLIENT_ID
    settings.GOOGLE_OAUTH_MOBILE_CLIENT_IDS = [GOOGLE_MOBILE_CLIENT_ID]
    settings.GOOGLE_OAUTH_AUTHORIZE_URL = f"{stub.base_url}/authorize"
    settings.GOOGLE_OAUTH_TOKEN_URL = f"{stub.base_url}/token"
    settings.GOOGLE_OAUTH_JWKS_URL = f"{stub.base_url}/certs"
    settings.OAUTH_SPA_REDIRECT_URL = "https://spa.example.com/auth/done"
    settings.SOCIALACCOUNT_PROVIDERS = {
        "google": {
            "APPS": [{"client_id": GOOGLE_WEB_CLIENT_ID, "secret": "stub-secret", "key": ""}],
            "SCOPE": ["openid", "email", "profile"],
            "AUTH_PARAMS": {"access_type": "online"},
            "OAUTH_PKCE_ENABLED": True,
        }
    }
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api_client_factory():  # type: ignore[no-untyped-def]
    from rest_framework.test import APIClient

    def make(**headers: str) -> APIClient:
        client = APIClient()
        client.credentials(**headers)
        return client

    return make


@pytest.fixture
def enqueued(task_stub) -> list[dict]:  # type: ignore[no-untyped-def]
    """Records each on-commit publish of the mail outbox and runs the task body directly (no
    eager mode); an entry is ``{"kind": ..., "to": ...}`` per row handed over."""
    from accounts import tasks
    from accounts.models import OutboundMail

    calls: list[dict] = []

    def apply_async(*, kwargs, **options):  # type: ignore[no-untyped-def]
        assert options.get("retry") is False  # a request never waits on broker retries
        for row in OutboundMail.objects.filter(pk__in=kwargs["mail_ids"]):
            calls.append({"kind": row.kind, "to": row.to_email})
        return tasks.deliver_mail(**kwargs)

    task_stub("accounts.deliver_mail", apply_async)
    return calls
