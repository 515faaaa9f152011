"""Garbage-collector tuning for long-running server processes (daphne, gunicorn workers).

A full (generation 2) collection walks every tracked object. After Django and its
dependencies are loaded that is a few hundred thousand objects that will live as long as
the process, and at 1,000 WebSocket subscribers the collections it triggered paused the event
loop for up to 300 ms: the stream's tick-to-client p99 was 615 ms with Python's defaults and
313 ms with this tuning (``bench/stream_fanout.py``, docs/streaming.md). So once the
application is loaded:

- ``gc.freeze()`` moves everything alive into the permanent generation, which no collection
  walks (and, before a fork, keeps those pages shared between workers);
- the first threshold goes up from Python's 700 to ``SERVER_GC_THRESHOLD``'s first number, so
  young collections run less often on the thousands of short-lived objects every request and
  stream message makes. Reference cycles are still collected, just in larger batches.

``SERVER_GC_THRESHOLD=""`` leaves the collector as Python sets it.
"""

from __future__ import annotations

import gc
import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("cryptocast.ops")


def parse_threshold(value: str) -> tuple[int, int, int] | None:
    """``"10000,20,20"`` -> (10000, 20, 20); empty -> None (leave Python's defaults)."""
    value = value.strip()
    if not value:
        return None
    parts = value.split(",")
    try:
        numbers = tuple(int(part) for part in parts)
    except ValueError:
        numbers = ()
    if len(numbers) != 3 or any(n < 1 for n in numbers):
        raise ImproperlyConfigured(
            f"SERVER_GC_THRESHOLD={value!r}: give three positive integers, e.g. 10000,20,20"
        )
    return numbers  # type: ignore[return-value]


def tune_for_server() -> tuple[int, int, int] | None:
    """Freeze what is loaded and raise the thresholds; call once the application is set up."""
    threshold = parse_threshold(settings.SERVER_GC_THRESHOLD)
    if threshold is None:
        return None
    gc.collect()
    gc.freeze()
    gc.set_threshold(*threshold)
    logger.debug(
        "gc tuned for a server: %s objects frozen, threshold %s", gc.get_freeze_count(), threshold
    )
    return threshold
