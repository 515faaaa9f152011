"""Publishing by task name (core.enqueue): sent on commit with the id given back, and no name
that a service publishes is a typo (a message to an unknown name would wait for nobody)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from celery import current_app
from django.db import transaction

from core.enqueue import task_send_on_commit

ROOT = Path(__file__).resolve().parents[2]
APPS = (
    "core",
    "accounts",
    "streaming",
    "fx",
    "markets",
    "mlserving",
    "news",
    "forecasts",
    "alerts",
)


def _published_names() -> set[str]:
    names = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "tests" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", "") in {"task_send", "task_send_on_commit"}
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    names.add(node.args[0].value)
    return names


def test_every_task_published_by_name_is_registered():
    current_app.loader.import_default_modules()
    names = _published_names()
    assert {"accounts.deliver_mail", "alerts.deliver", "core.refresh_caches"} <= names
    assert sorted(names - set(current_app.tasks)) == []


@pytest.mark.django_db(transaction=True)
def test_sent_on_commit_with_the_id_returned_and_never_on_rollback(task_stub):
    sent: list[tuple[dict, dict]] = []
    task_stub("core.refresh_caches", lambda *, kwargs, **options: sent.append((kwargs, options)))
    with transaction.atomic():
        task_id = task_send_on_commit("core.refresh_caches", kwargs={"a": 1})
        assert sent == []
    assert sent == [({"a": 1}, {"task_id": task_id})]

    def rolled_back() -> None:
        with transaction.atomic():
            task_send_on_commit("core.refresh_caches")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        rolled_back()
    assert len(sent) == 1
