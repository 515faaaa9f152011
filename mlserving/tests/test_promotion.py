from __future__ import annotations

import pytest

from mlserving import manifest as mf
from mlserving import services
from mlserving.models import ModelVersion

from .conftest import make_version

pytestmark = pytest.mark.django_db


def aliases() -> dict:
    return mf.read_manifest()["keys"]["K"]["models"]["m"]["aliases"]


@pytest.mark.parametrize(
    ("challenger", "champion", "expected"),
    [
        (0.9, 0.95, True),
        (0.95, 0.95, False),
        (0.99, 0.95, False),
        (None, 0.9, False),
        (0.9, None, True),
    ],
)
def test_rule_challenger_must_strictly_beat_champion(challenger, champion, expected):
    assert services.beats(challenger, champion) is expected


def test_first_version_is_promoted_when_there_is_no_champion(artifacts):
    v1 = make_version(artifacts, skill=1.2)
    result = services.promote(key="K", model="m")
    assert result.promoted and aliases() == {"champion": v1}


def test_worse_challenger_stays_challenger(artifacts):
    v1 = make_version(artifacts, alias="champion", skill=0.95)
    v2 = make_version(artifacts, skill=0.97)
    result = services.promote(key="K", model="m")
    assert not result.promoted and "does not beat" in result.reason
    assert aliases() == {"champion": v1, "challenger": v2}


def test_better_challenger_is_promoted_and_can_be_rolled_back(artifacts):
    v1 = make_version(artifacts, alias="champion", skill=0.98)
    v2 = make_version(artifacts, skill=0.96)
    assert services.promote(key="K", model="m").promoted
    assert aliases() == {"champion": v2, "previous_champion": v1}
    services.rollback(key="K", model="m")
    assert aliases() == {"champion": v1, "previous_champion": v2}


def test_force_overrides_the_rule(artifacts):
    make_version(artifacts, alias="champion", skill=0.9)
    v2 = make_version(artifacts, skill=1.5)
    assert services.promote(key="K", model="m", force=True).promoted
    assert aliases()["champion"] == v2


def test_rollback_without_history_is_an_error(artifacts):
    make_version(artifacts, alias="champion")
    with pytest.raises(services.RegistryError, match="no previous champion"):
        services.rollback(key="K", model="m")


def test_registry_table_mirrors_the_manifest(artifacts):
    v1 = make_version(artifacts, alias="champion", skill=0.97)
    v2 = make_version(artifacts, skill=0.9)
    services.promote(key="K", model="m")
    rows = {r.version: r for r in ModelVersion.objects.all()}
    assert set(rows) == {v1, v2}
    assert rows[v2].alias_list == ["champion"]
    assert rows[v1].alias_list == ["previous_champion"]
    assert rows[v2].skill_score == pytest.approx(0.9)


def test_admin_actions_promote_only_on_skill_and_roll_back(artifacts, staff_user, monkeypatch):
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    v1 = make_version(artifacts, alias="champion", skill=0.98)
    v2 = make_version(artifacts, skill=0.99)
    admin = site._registry[ModelVersion]
    said: list[str] = []
    monkeypatch.setattr(admin, "message_user", lambda request, msg, level=None: said.append(msg))
    request = RequestFactory().post("/admin/")
    request.user = staff_user
    admin.promote_selected(request, ModelVersion.objects.filter(version=v2))
    assert aliases()["champion"] == v1 and "does not beat" in said[-1]
    admin.force_promote_selected(request, ModelVersion.objects.filter(version=v2))
    assert aliases()["champion"] == v2 and "forced" in said[-1]
    admin.rollback_selected(request, ModelVersion.objects.filter(version=v2))
    assert aliases()["champion"] == v1
    assert not admin.has_change_permission(request) and not admin.has_delete_permission(request)


def test_admin_promote_and_rollback_leave_audit_rows(artifacts, staff_user, monkeypatch):
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    from accounts.models import AuditEvent

    make_version(artifacts, alias="champion", skill=0.98)
    v2 = make_version(artifacts, skill=0.99)
    admin = site._registry[ModelVersion]
    monkeypatch.setattr(admin, "message_user", lambda request, msg, level=None: None)
    request = RequestFactory().post("/admin/", HTTP_USER_AGENT="browser/1")
    request.user = staff_user
    admin.promote_selected(request, ModelVersion.objects.filter(version=v2))  # refused: no skill
    admin.force_promote_selected(request, ModelVersion.objects.filter(version=v2))
    admin.rollback_selected(request, ModelVersion.objects.filter(version=v2))
    lone = make_version(artifacts, key="J", alias="champion", skill=0.9)
    admin.rollback_selected(request, ModelVersion.objects.filter(version=lone))  # no previous
    admin.resync(request, ModelVersion.objects.none())
    rows = list(
        AuditEvent.objects.order_by("id").values_list("action", "outcome", "actor", "target_id")
    )
    assert rows == [
        ("model.promote", "failure", staff_user.pk, "K/m"),
        ("model.force_promote", "success", staff_user.pk, "K/m"),
        ("model.rollback", "success", staff_user.pk, "K/m"),
        ("model.rollback", "failure", staff_user.pk, "J/m"),
        ("model.registry_resync", "success", staff_user.pk, ""),
    ]
    refused = AuditEvent.objects.filter(action="model.promote").get()
    assert refused.data["version"] == v2 and "does not beat" in refused.data["reason"]
    assert AuditEvent.objects.filter(action="model.force_promote").get().data["champion"] == v2
