"""``check --deploy`` refuses a short or published JWT signing key (issue 16, finding 8)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

DEV_KEY = "insecure-embedded-jwt-key-change-me-0123456789"


def _deploy_check() -> None:
    call_command("check", "--deploy", "--tag", "security")


@pytest.mark.parametrize("key", ["x", "short-but-not-32-bytes", DEV_KEY])
def test_deploy_check_refuses_a_short_or_published_jwt_key(settings, key):
    settings.DEBUG = False
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": key}
    with pytest.raises(SystemCheckError, match=r"accounts\.E004"):
        _deploy_check()


def test_deploy_check_accepts_a_long_random_jwt_key(settings):
    settings.DEBUG = False
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": "k" * 8 + "9f3c2a71e0b84d5d" * 3}
    from accounts.checks import jwt_signing_key_check

    assert jwt_signing_key_check(None) == []


def test_debug_mode_may_use_the_development_key(settings):
    settings.DEBUG = True
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": DEV_KEY}
    from accounts.checks import jwt_signing_key_check

    assert jwt_signing_key_check(None) == []
