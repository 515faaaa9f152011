"""The one retry policy of the project's Celery tasks.

Every task is ``acks_late`` (a crashed worker's message is delivered again, so every task body
is idempotent), retries only on transient errors (a lock held elsewhere, a database or network
hiccup, plus what the app names: a provider's error, an integrity race), with exponential
backoff and jitter. Apps differ only in how long they wait and how often they try:
``**retrying(backoff=..., backoff_max=..., max_retries=...)`` in ``@shared_task``.
"""

from __future__ import annotations

from typing import Any

from django.db import OperationalError

from core.locks import LockUnavailable

TRANSIENT: tuple[type[BaseException], ...] = (
    LockUnavailable,
    OperationalError,
    ConnectionError,
    TimeoutError,
)


def retrying(
    *,
    backoff: int,
    backoff_max: int,
    max_retries: int,
    also: tuple[type[BaseException], ...] = (),
) -> dict[str, Any]:
    """``@shared_task`` options: bound, ``acks_late``, retried on ``TRANSIENT`` + ``also``."""
    return {
        "bind": True,
        "acks_late": True,
        "autoretry_for": TRANSIENT + also,
        "retry_backoff": backoff,
        "retry_backoff_max": backoff_max,
        "retry_jitter": True,
        "max_retries": max_retries,
    }
