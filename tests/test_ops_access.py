"""``/metrics`` and ``/health/detailed`` answer operators only (issue 16, finding 8).

Allowed: a bearer ``OPS_TOKEN``, or a client address in ``OPS_ALLOWED_NETWORKS`` (loopback
when neither is set). deploy/nginx.conf refuses both paths from outside the private networks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from tests.test_errors import assert_envelope

pytestmark = pytest.mark.django_db
OPS_PATHS = ["/metrics", "/health/detailed"]


@pytest.fixture
def outsider():
    return Client(REMOTE_ADDR="203.0.113.9", raise_request_exception=False)


@pytest.mark.parametrize("path", OPS_PATHS)
def test_ops_endpoints_refuse_strangers(outsider, settings, path):
    settings.OPS_TOKEN = "ops-token-" + "x" * 30
    assert_envelope(outsider.get(path), 403, "permission_denied")
    wrong = outsider.get(path, HTTP_AUTHORIZATION="Bearer nope")
    assert_envelope(wrong, 403, "permission_denied")


@pytest.mark.parametrize("path", OPS_PATHS)
def test_ops_endpoints_answer_the_ops_token(outsider, settings, path):
    settings.OPS_TOKEN = "ops-token-" + "x" * 30
    response = outsider.get(path, HTTP_AUTHORIZATION=f"Bearer {settings.OPS_TOKEN}")
    assert response.status_code in (200, 503)  # 503: a component is down, still an answer
    assert response.status_code != 403


@pytest.mark.parametrize("path", OPS_PATHS)
def test_ops_endpoints_answer_allowed_networks(outsider, settings, path):
    settings.OPS_ALLOWED_NETWORKS = ["203.0.113.0/24"]
    assert outsider.get(path).status_code in (200, 503)
    settings.OPS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert_envelope(outsider.get(path), 403, "permission_denied")


def test_loopback_is_allowed_when_nothing_is_configured(settings):
    settings.OPS_TOKEN = ""
    settings.OPS_ALLOWED_NETWORKS = []
    assert Client().get("/metrics").status_code == 200


def test_basic_health_stays_open_to_load_balancers(outsider, settings):
    settings.OPS_TOKEN = "ops-token-" + "x" * 30
    assert outsider.get("/health/ready").status_code in (200, 503)
    assert outsider.get("/health").status_code == 200


def test_nginx_keeps_ops_endpoints_inside_the_network():
    conf = (Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf").read_text()
    block = conf[conf.index("location ~ ^/(metrics|health/detailed)$") :]
    block = block[: block.index("}")]
    assert "deny all;" in block
    assert "allow 10.0.0.0/8;" in block
