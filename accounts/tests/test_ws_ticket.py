"""WebSocket tickets: <= 30 s, single use, consumed through accounts.services."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.services import ws_ticket_consume

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(api_client, pair) -> dict:  # type: ignore[no-untyped-def]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    response = api_client.post("/api/v1/auth/ws-ticket")
    api_client.credentials()
    assert response.status_code == 201
    return response.json()


def test_ticket_is_short_lived(ticket):
    assert 0 < ticket["expires_in"] <= 30


def test_ticket_works_exactly_once(ticket, user):
    assert ws_ticket_consume(ticket["ticket"]) == user
    assert ws_ticket_consume(ticket["ticket"]) is None


def test_ticket_expires(ticket):
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert ws_ticket_consume(ticket["ticket"]) is None


def test_ticket_of_a_deactivated_user_is_refused(ticket, user):
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert ws_ticket_consume(ticket["ticket"]) is None


def test_ttl_setting_cannot_exceed_30_seconds(api_client, pair, settings):
    settings.WS_TICKET_TTL_SECONDS = 3600
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert api_client.post("/api/v1/auth/ws-ticket").json()["expires_in"] == 30


def test_garbage_tickets_are_refused():
    assert ws_ticket_consume("") is None
    assert ws_ticket_consume("x" * 10_000) is None
    assert ws_ticket_consume("not-a-ticket") is None


def test_ticket_needs_authentication(api_client):
    assert api_client.post("/api/v1/auth/ws-ticket").status_code == 401


def test_an_oauth_handoff_code_is_not_a_ws_ticket(user):
    from accounts.services import oauth_handoff_issue

    code = oauth_handoff_issue(user=user, challenge="x" * 43)
    assert ws_ticket_consume(code) is None
