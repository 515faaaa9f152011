"""The Celery broker is prepared once by `make setup` (no start-up race in the embedded mode)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def test_init_broker_declares_the_task_queue_and_is_idempotent():
    for _ in range(2):
        out = StringIO()
        call_command("init_broker", stdout=out)
        assert "broker ready" in out.getvalue()
        assert "celery" in out.getvalue()


def test_init_broker_fails_loudly_when_the_broker_is_unreachable(monkeypatch):
    from config.celery import app

    real = app.connection_for_write
    monkeypatch.setattr(
        app, "connection_for_write", lambda *a, **kw: real("redis://127.0.0.1:1/0", **kw)
    )
    with pytest.raises(CommandError, match="unreachable"):
        call_command("init_broker", stdout=StringIO())
