"""The user's own data: POST auth/me/export, the task that builds the ZIP, status, download,
rate limit, sections from other apps, and the clean-up after a day."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts import services, tasks
from accounts.models import DataExport
from accounts.services import exports

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/auth/me/export"


@pytest.fixture(autouse=True)
def _export_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.ACCOUNTS_EXPORT_DIR = tmp_path / "exports"


@pytest.fixture
def enqueued(task_stub):  # type: ignore[no-untyped-def]
    calls: list[str] = []
    task_stub(
        "accounts.build_data_export", lambda *, kwargs, **_: calls.append(kwargs["export_id"])
    )
    return calls


@pytest.fixture
def authed(api_client, user):  # type: ignore[no-untyped-def]
    api_client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {services.token_pair_issue(user=user).access}"
    )
    return api_client


def _start(authed, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        response = authed.post(EXPORT)
    assert response.status_code == 202, response.content
    return response.json()


def test_export_is_built_by_a_task_and_downloaded_as_a_zip_of_json(
    authed, user, enqueued, django_capture_on_commit_callbacks
):
    services.api_key_create(user=user, name="script")
    started = _start(authed, django_capture_on_commit_callbacks)
    assert started["status"] == "pending" and started["download_url"] is None
    assert enqueued == [started["id"]]
    assert tasks.build_data_export(export_id=started["id"]) == "ready"
    status = authed.get(f"{EXPORT}/{started['id']}").json()
    assert status["status"] == "ready" and status["size_bytes"] > 0
    assert status["download_url"].endswith(f"/api/v1/auth/me/export/{started['id']}/file")
    response = authed.get(status["download_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = set(archive.namelist())
    assert {"profile.json", "api_keys.json", "audit_events.json", "two_factor.json"} <= names
    assert json.loads(archive.read("profile.json"))["email"] == user.email
    keys = json.loads(archive.read("api_keys.json"))
    assert [k["name"] for k in keys] == ["script"]
    assert "digest" not in keys[0]
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["source"] == "cryptocast" and manifest["generated_at"]
    actions = {e["action"] for e in json.loads(archive.read("audit_events.json"))}
    assert "data_export.requested" in actions


def test_the_task_is_idempotent(authed, enqueued, django_capture_on_commit_callbacks):
    started = _start(authed, django_capture_on_commit_callbacks)
    tasks.build_data_export(export_id=started["id"])
    first = DataExport.objects.get(pk=started["id"]).finished_at
    assert tasks.build_data_export(export_id=started["id"]) == "ready"
    assert DataExport.objects.get(pk=started["id"]).finished_at == first


def test_sections_registered_by_other_apps_are_included(
    authed, user, enqueued, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(exports, "_SECTIONS", {})
    services.export_section_register("watchlists", lambda user_id: [{"user": user_id}])
    started = _start(authed, django_capture_on_commit_callbacks)
    tasks.build_data_export(export_id=started["id"])
    path, _ = services.data_export_file(user=user, export_id=started["id"])
    with zipfile.ZipFile(path) as archive:
        assert json.loads(archive.read("watchlists.json")) == [{"user": user.pk}]
    with pytest.raises(ValueError):
        services.export_section_register("profile", lambda user_id: None)


def test_a_failing_section_marks_the_export_failed_and_leaves_no_file(
    authed, user, enqueued, django_capture_on_commit_callbacks, monkeypatch, settings
):
    def broken(user_id: int) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(exports, "_SECTIONS", {"broken": broken})
    started = _start(authed, django_capture_on_commit_callbacks)
    assert tasks.build_data_export(export_id=started["id"]) == "failed"
    assert not list((settings.ACCOUNTS_EXPORT_DIR).iterdir())
    assert authed.get(f"{EXPORT}/{started['id']}/file").status_code == 404


def test_exports_are_rate_limited(authed, enqueued, django_capture_on_commit_callbacks):
    _start(authed, django_capture_on_commit_callbacks)
    again = authed.post(EXPORT)
    assert again.status_code == 429
    assert int(again["Retry-After"]) > 0
    assert DataExport.objects.count() == 1


def test_another_users_export_is_a_404(
    authed, api_client_factory, make_user, enqueued, django_capture_on_commit_callbacks
):
    started = _start(authed, django_capture_on_commit_callbacks)
    tasks.build_data_export(export_id=started["id"])
    other = make_user(email="mallory@example.com")
    client = api_client_factory(
        HTTP_AUTHORIZATION=f"Bearer {services.token_pair_issue(user=other).access}"
    )
    assert client.get(f"{EXPORT}/{started['id']}").status_code == 404
    assert client.get(f"{EXPORT}/{started['id']}/file").status_code == 404


def test_export_needs_a_signed_in_user_not_an_api_key(api_client, user):
    assert api_client.post(EXPORT).status_code == 401
    _, raw = services.api_key_create(user=user, name="script")
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert api_client.post(EXPORT).status_code == 403


def test_exports_expire_and_the_clean_up_deletes_file_and_row(
    authed, user, enqueued, django_capture_on_commit_callbacks, settings
):
    started = _start(authed, django_capture_on_commit_callbacks)
    tasks.build_data_export(export_id=started["id"])
    path, _ = services.data_export_file(user=user, export_id=started["id"])
    later = timezone.now() + timedelta(hours=settings.ACCOUNTS_EXPORT_TTL_HOURS, minutes=1)
    with time_machine.travel(later):
        access = services.token_pair_issue(user=user).access  # the old one expired too
        authed.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        assert authed.get(f"{EXPORT}/{started['id']}/file").status_code == 404
        assert authed.get(f"{EXPORT}/{started['id']}").json()["download_url"] is None
        assert services.data_exports_purge_expired() == 1
    assert not path.exists()
    assert not DataExport.objects.exists()
