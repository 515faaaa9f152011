"""Test-wide fixtures. pytest-socket (see pyproject addopts) blocks every non-loopback host."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import pytest
from celery import current_app
from django.conf import settings

_SAMPLE_SETTING = os.environ.get("CRYPTOCAST_SAMPLE_DATA") or settings.CRYPTOCAST_SAMPLE_DATA or ""
# An empty setting means "no sample data" (Path("") would be the working directory).
SAMPLE_DATA = Path(_SAMPLE_SETTING) if _SAMPLE_SETTING else None
# Importing config.asgi/wsgi tunes the collector for a server (core/gctune.py); the test
# process keeps Python's own, so memory tests measure what they always did.
settings.SERVER_GC_THRESHOLD = ""


def _uncached_loggers() -> None:
    """structlog.testing.capture_logs() only sees loggers that are not cached: with
    ``cache_logger_on_first_use`` (production's setting) a module logger first used outside a
    capture keeps its processors for good, and a later test's capture misses its events."""
    import structlog

    structlog.configure(cache_logger_on_first_use=False)


@pytest.fixture(scope="session", autouse=True)
def _structlog_for_tests():  # type: ignore[no-untyped-def]
    _uncached_loggers()


@pytest.fixture(autouse=True)
def _isolated_cache(settings):  # type: ignore[no-untyped-def]
    """Every test starts with an empty cache, whichever backend is configured."""
    from django.core.cache import cache

    # A test that simulates a dead Redis must still be able to start.
    with contextlib.suppress(Exception):
        cache.clear()
    from core.cache import two_tier_caches

    for tier in two_tier_caches():  # and every in-process L1 in front of it
        tier.reset()
    from markets.providers import reset_replay_anchors

    reset_replay_anchors()  # where the replay continues from is per database


@pytest.fixture
def sample_data() -> Path:
    """The recorded real data in ../shared/data (read through CRYPTOCAST_SAMPLE_DATA)."""
    if SAMPLE_DATA is None or not (SAMPLE_DATA / "ohlcv").is_dir():
        pytest.skip("CRYPTOCAST_SAMPLE_DATA is not set to a directory")
    return SAMPLE_DATA


@pytest.fixture
def task_stub(monkeypatch):  # type: ignore[no-untyped-def]
    """``task_stub("accounts.deliver_mail", fn)``: the publish of that task (services send by
    name, ``core.enqueue``) calls ``fn(kwargs=..., **options)`` instead of the broker; other
    tasks go to the broker as usual."""
    stubs: dict[str, Any] = {}
    broker_send = current_app.send_task

    def send_task(name, args=None, kwargs=None, **options):  # type: ignore[no-untyped-def]
        fake = stubs.get(name)
        if fake is None:
            return broker_send(name, args, kwargs, **options)
        return fake(kwargs=kwargs, **options)

    def stub(name: str, fn: Any) -> None:
        stubs[name] = fn

    monkeypatch.setattr(current_app, "send_task", send_task)
    return stub


@pytest.fixture
def api_client():  # type: ignore[no-untyped-def]
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def user(django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user(
        email="alice@example.com", password="correct-horse-battery-9"
    )


@pytest.fixture
def staff_user(django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user(
        email="staff@example.com", password="correct-horse-battery-9", is_staff=True
    )


@pytest.fixture
def auth_client(api_client, user):  # type: ignore[no-untyped-def]
    api_client.force_authenticate(user=user)
    return api_client


@pytest.fixture
def staff_client(api_client, staff_user):  # type: ignore[no-untyped-def]
    api_client.force_authenticate(user=staff_user)
    return api_client
