"""Staff actions on the markets API leave a row in the audit log, with the staff member as
the actor (accounts.services.audit_record)."""

from __future__ import annotations

import pytest
from celery import current_app
from django.core.files.uploadedfile import SimpleUploadedFile
from django_celery_beat.models import PeriodicTask

from accounts.models import AuditEvent
from core.schedules import setup_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(current_app, "send_task", lambda *a, **k: None)


def test_sync_and_job_actions_are_audited_with_the_actor(staff_client, staff_user):
    staff_client.post("/api/v1/cryptocurrencies/sync", {"top": 10}, format="json")
    setup_schedule()
    job = PeriodicTask.objects.get(name="markets: quotes top 200")
    staff_client.post(f"/api/v1/etl/jobs/{job.pk}/run")
    staff_client.post(f"/api/v1/etl/jobs/{job.pk}/disable")
    events = list(AuditEvent.objects.order_by("id").values_list("action", "actor", "target_id"))
    assert events == [
        ("markets.sync", staff_user.pk, ""),
        ("etl.job_run", staff_user.pk, str(job.pk)),
        ("etl.job_disabled", staff_user.pk, str(job.pk)),
    ]


def test_a_refused_import_is_audited_as_a_failure(staff_client, staff_user):
    bad = SimpleUploadedFile("BTC.csv", b"date,open,high,low,close,volume\nnot,a,row\n")
    response = staff_client.post(
        "/api/v1/cryptocurrencies/import", {"file": bad}, format="multipart"
    )
    assert response.status_code == 400
    event = AuditEvent.objects.get(action="markets.import")
    assert (event.outcome, event.actor_id) == ("failure", staff_user.pk)
    assert event.data["file"] == "BTC.csv"


def test_refused_callers_leave_no_staff_audit_row(api_client, user):
    api_client.force_authenticate(user=user)
    assert api_client.post("/api/v1/cryptocurrencies/sync").status_code == 403
    assert not AuditEvent.objects.exists()
