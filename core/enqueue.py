"""Hand work to a Celery worker by task name.

Tasks import services, never the reverse: a service that must enqueue (an outbox handing its
rows over, a refresh queued from an endpoint) names the task instead of importing its module.
The message is the one ``Task.apply_async`` sends; options the task decorator would have
added at publish time (``ignore_result``) are passed by the caller.
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from celery import uuid as task_uuid
from django.db import transaction


def task_send(name: str, *, kwargs: dict[str, Any] | None = None, **options: Any) -> None:
    """Publish ``name`` now. Broker errors propagate: a caller that must not fail catches
    them (its sweep delivers later)."""
    # an option given as None (``queue=None``: no queue configured) means the default
    options = {key: value for key, value in options.items() if value is not None}
    current_app.send_task(name, kwargs=kwargs or {}, **options)


def task_send_on_commit(name: str, *, kwargs: dict[str, Any] | None = None, **options: Any) -> str:
    """Publish ``name`` once the surrounding transaction commits; returns the task id, chosen
    now so the caller can answer with it before the commit happens."""
    task_id = options.pop("task_id", None) or task_uuid()
    transaction.on_commit(lambda: task_send(name, kwargs=kwargs, task_id=task_id, **options))
    return task_id
