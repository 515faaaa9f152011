"""Staff actions in the Django admin leave audit rows with the staff member as the actor:
job runs (quote resync, candle backfill, news poll) and revoking a user's sign-ins. Model
promotion/rollback is in mlserving/tests/test_promotion.py."""

from __future__ import annotations

import pytest
from celery import current_app

from accounts import services as accounts_services
from accounts.models import AuditEvent, TokenFamily

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_admin(client, django_user_model):  # type: ignore[no-untyped-def]
    admin = django_user_model.objects.create_superuser(
        email="root@example.com", password="correct-horse-battery-9"
    )
    client.force_login(admin)
    return client, admin


def test_market_job_runs_from_the_admin_are_audited(
    staff_admin, monkeypatch, django_capture_on_commit_callbacks
):
    from markets.models import Asset

    client, admin = staff_admin
    monkeypatch.setattr(current_app, "send_task", lambda *a, **k: None)
    Asset.objects.create(
        id="bitcoin", symbol="BTC", name="Bitcoin", rank=1, binance_symbol="BTCUSDT"
    )
    url = "/admin/markets/asset/"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "resync_quotes", "_selected_action": ["bitcoin"]})
        client.post(
            url,
            {
                "action": "backfill_candles",
                "_selected_action": ["bitcoin"],
                "interval": "1h",
                "since": "2024-01-01",
            },
        )
    rows = list(AuditEvent.objects.order_by("id").values_list("action", "actor", "data"))
    assert [(a, actor) for a, actor, _ in rows] == [
        ("admin.job_run", admin.pk),
        ("admin.job_run", admin.pk),
    ]
    assert rows[0][2]["task"] == "markets.sync_assets" and rows[0][2]["assets"] == 1
    assert rows[1][2] == {
        "task": "markets.backfill_candles",
        "interval": "1h",
        "since": "2024-01-01",
        "assets": 1,
    }


def test_a_news_poll_from_the_admin_is_audited_with_its_outcome(staff_admin, settings):
    from news.models import Source

    client, admin = staff_admin
    settings.CRYPTOPANIC_API_KEY = ""  # skipped cleanly: no network
    source = Source.objects.create(
        slug="cryptopanic", name="CryptoPanic", kind="cryptopanic", url="https://cp.test/api"
    )
    client.post("/admin/news/source/", {"action": "poll_now", "_selected_action": [source.pk]})
    event = AuditEvent.objects.get(action="admin.job_run")
    assert (event.actor_id, event.target_id, event.outcome) == (admin.pk, "cryptopanic", "success")
    assert event.data["status"] == "skipped"


def test_revoking_sign_ins_in_the_admin_is_audited_for_the_user(staff_admin, django_user_model):
    client, admin = staff_admin
    bob = django_user_model.objects.create_user(email="bob@example.com", password="x" * 12)
    accounts_services.token_pair_issue(user=bob)
    family = TokenFamily.objects.get(user=bob)
    client.post(
        "/admin/accounts/tokenfamily/", {"action": "revoke", "_selected_action": [str(family.pk)]}
    )
    event = AuditEvent.objects.get(action="tokens.revoked_by_staff")
    assert (event.user_id, event.actor_id) == (bob.pk, admin.pk)
