"""Unlinking Google (accounts.services.google_unlink), used by the dashboard's /account."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount
from rest_framework import exceptions

from accounts import services
from accounts.models import AuditEvent

pytestmark = pytest.mark.django_db


def _link(user):  # type: ignore[no-untyped-def]
    return SocialAccount.objects.create(user=user, provider="google", uid="g-42", extra_data={})


def test_unlink_drops_the_link_and_audits(user):
    _link(user)
    assert services.google_unlink(user=user) is True
    assert not SocialAccount.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(user=user, action="google.unlinked").count() == 1


def test_nothing_linked_is_false(user):
    assert services.google_unlink(user=user) is False
    assert not AuditEvent.objects.filter(action="google.unlinked").exists()


def test_refused_when_google_is_the_only_way_in(make_user):
    google_only = make_user(email="g@example.com", password=None)
    _link(google_only)
    with pytest.raises(exceptions.ValidationError) as caught:
        services.google_unlink(user=google_only)
    assert "only sign-in" in str(caught.value.detail["google"][0])
    assert SocialAccount.objects.filter(user=google_only).exists()


def test_browser_configured_follows_settings_or_a_social_app(settings):
    from allauth.socialaccount.models import SocialApp

    settings.GOOGLE_OAUTH_CLIENT_ID = ""
    assert services.google_browser_configured() is False
    SocialApp.objects.create(provider="google", name="Google", client_id="x", secret="y")
    assert services.google_browser_configured() is True
