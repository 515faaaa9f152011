"""The outbox: push, e-mail and webhooks delivered once; retries, leases, SSRF at delivery."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import time_machine
from django.core import mail

from alerts import services
from alerts.models import Delivery, Preference, Webhook
from alerts.tests.conftest import store_prices
from core.ssrf import UnsafeUrl, check_url

pytestmark = pytest.mark.django_db


def _fire(user, **pref):
    Preference.objects.update_or_create(user=user, defaults=pref)
    services.alert_create(user=user, asset_id="bitcoin", kind="greater_than", params={"value": 1})
    store_prices({"bitcoin": 500.0})
    services.alerts_evaluate(asset_ids=["bitcoin"])


def test_push_goes_to_the_users_notification_channel_once(user, coins, published):
    _fire(user)
    row = Delivery.objects.get(channel="push")
    assert services.delivery_send(delivery_id=row.pk).status == "sent"
    assert services.delivery_send(delivery_id=row.pk).status == "skipped"
    [call] = published
    assert call["channel"] == f"notifications:{user.pk}"
    assert call["items"][0]["id"] == row.idempotency_key
    assert call["items"][0]["coin"] == "bitcoin" and call["items"][0]["source"] == "replay"


def test_the_outbox_is_enqueued_on_commit_only(
    user, coins, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _fire(user)
    assert not any(n == "deliver" for n, _ in enqueued)
    for cb in callbacks:
        cb()
    assert any(n == "deliver" for n, _ in enqueued)


def test_a_dead_broker_loses_nothing_the_sweep_delivers(user, coins, published, task_stub):
    from alerts import tasks

    def down(*a, **kw):
        raise ConnectionError("broker down")

    task_stub("alerts.deliver", down)
    assert services.deliveries_enqueue(delivery_ids=[1]) is False
    _fire(user)
    assert services.deliveries_due() == [Delivery.objects.get().pk]
    tasks.sweep.run()
    assert Delivery.objects.get().status == "sent" and len(published) == 1


def test_a_worker_killed_mid_delivery_is_redelivered_with_the_same_key(user, coins, published):
    _fire(user)
    row = Delivery.objects.get()
    # a worker claimed it, then died (lease held, never marked)
    Delivery.objects.filter(pk=row.pk).update(
        status="sending", lease_until=datetime.now(UTC) + timedelta(seconds=120)
    )
    assert services.deliveries_due() == []
    later = datetime.now(UTC) + timedelta(seconds=121)
    with time_machine.travel(later, tick=False):
        assert services.deliveries_due() == [row.pk]
        assert services.delivery_send(delivery_id=row.pk).status == "sent"
    assert published[0]["items"][0]["id"] == row.idempotency_key


def test_email_once_and_the_daily_digest_collects_instead(user, coins, django_user_model):
    _fire(user, email=True, push=False)
    row = Delivery.objects.get(channel="email")
    services.delivery_send(delivery_id=row.pk)
    services.delivery_send(delivery_id=row.pk)
    assert len(mail.outbox) == 1 and "bitcoin" in mail.outbox[0].subject
    mail.outbox.clear()
    bob = django_user_model.objects.create_user(email="bob@example.com", password="x-y-z-123456")
    _fire(bob, email=True, push=False, daily_digest=True)
    assert Delivery.objects.get(notification__user=bob).status == "digest"
    assert services.digests_send() == 1 and services.digests_send() == 0
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["bob@example.com"]


def test_quiet_hours_defer_delivery_to_their_end(user, coins):
    now = datetime.now(UTC)
    start = (now - timedelta(hours=1)).time().replace(microsecond=0)
    end = (now + timedelta(hours=1)).time().replace(microsecond=0)
    _fire(user, quiet_start=start, quiet_end=end)
    row = Delivery.objects.get()
    assert row.next_attempt_at > now + timedelta(minutes=50)
    assert services.delivery_send(delivery_id=row.pk).status == "skipped"


# --- webhooks against a real server on loopback ------------------------------------------------
class _Receiver(BaseHTTPRequestHandler):
    status = 200
    seen: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append((dict(self.headers), body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(settings):
    settings.ALERTS_WEBHOOK_ALLOW_HTTP = True
    settings.ALERTS_WEBHOOK_ALLOW_PRIVATE = True  # the test server is on loopback
    _Receiver.seen = []
    _Receiver.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver
    server.shutdown()


def test_webhook_is_signed_and_carries_its_idempotency_key(user, coins, receiver):
    url, rx = receiver
    hook = services.webhook_create(user=user, url=url)
    _fire(user, push=False)
    row = Delivery.objects.get(channel="webhook")
    assert services.delivery_send(delivery_id=row.pk).status == "sent"
    assert services.delivery_send(delivery_id=row.pk).status == "skipped"
    [(headers, body)] = rx.seen
    assert headers["Idempotency-Key"] == row.idempotency_key
    ts = headers["X-Cryptocast-Timestamp"]
    mac = hmac.new(hook.secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    assert headers["X-Cryptocast-Signature"] == f"t={ts},v1={mac}"
    payload = json.loads(body)
    assert payload["coin"] == "bitcoin" and payload["id"] == row.idempotency_key


def test_webhook_5xx_is_retried_with_backoff_then_disabled_after_repeated_failures(
    user, coins, receiver, settings
):
    settings.ALERTS_WEBHOOK_DISABLE_AFTER = 2
    url, rx = receiver
    rx.status = 503
    services.webhook_create(user=user, url=url)
    _fire(user, push=False)
    row = Delivery.objects.get(channel="webhook")
    assert services.delivery_send(delivery_id=row.pk).status == "pending"
    row.refresh_from_db()
    assert row.next_attempt_at > datetime.now(UTC) + timedelta(seconds=20)
    assert row.last_status_code == 503
    with time_machine.travel(row.next_attempt_at + timedelta(seconds=1), tick=False):
        assert services.delivery_send(delivery_id=row.pk).status == "failed"
    hook = Webhook.objects.get()
    assert not hook.is_active and "2 failures" in hook.disabled_reason
    assert len(rx.seen) == 2


def test_webhook_4xx_is_not_retried(user, coins, receiver):
    url, rx = receiver
    rx.status = 410
    services.webhook_create(user=user, url=url)
    _fire(user, push=False)
    row = Delivery.objects.get(channel="webhook")
    assert services.delivery_send(delivery_id=row.pk).status == "failed"


def test_webhook_url_is_rechecked_at_delivery(user, coins, receiver, settings):
    url, rx = receiver
    services.webhook_create(user=user, url=url)
    _fire(user, push=False)
    settings.ALERTS_WEBHOOK_ALLOW_PRIVATE = False  # e.g. the name now resolves to loopback
    row = Delivery.objects.get(channel="webhook")
    assert services.delivery_send(delivery_id=row.pk).status == "failed"
    row.refresh_from_db()
    assert "refused" in row.last_error and rx.seen == []


# --- SSRF checks ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/hook",  # plain http
        "https://127.0.0.1/hook",
        "https://10.0.0.5/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://localhost/hook",
        "https://user:pw@93.184.216.34/hook",
        "https://93.184.216.34:22/hook",
        "ftp://93.184.216.34/hook",
        "not a url",
    ],
)
def test_ssrf_checks_refuse_unsafe_urls(url):
    with pytest.raises(UnsafeUrl):
        check_url(url)


def test_ssrf_checks_accept_a_public_https_address():
    safe = check_url("https://93.184.216.34/hook")
    assert safe.addresses == ("93.184.216.34",) and safe.port == 443


def test_ssrf_checks_refuse_a_name_resolving_to_a_private_address(monkeypatch):
    import socket

    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("10.1.2.3", 443))])
    with pytest.raises(UnsafeUrl, match="non-public"):
        check_url("https://hooks.example.com/x")


def test_push_through_the_real_stream_reaches_the_users_private_channel(user, coins):
    from streaming.services import catch_up, head, resolve

    _fire(user)
    row = Delivery.objects.get(channel="push")
    channel = resolve("notifications", user_id=user.pk)
    before = head(channel)
    assert services.delivery_send(delivery_id=row.pk).status == "sent"
    assert head(channel) == before + 1
    [message] = catch_up(channel, before)
    assert row.idempotency_key in str(message)
