"""Figures of the fuzz run, printed at the end of the session (and kept in var/)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

FIGURES: Counter = Counter()
FAILURES: list[str] = []


def pytest_terminal_summary(terminalreporter):  # type: ignore[no-untyped-def]
    if not FIGURES:
        return
    terminalreporter.section("schemathesis fuzz")
    for key in sorted(FIGURES):
        terminalreporter.write_line(f"{key}: {FIGURES[key]}")
    terminalreporter.write_line(f"failures: {len(FAILURES)}")
    for line in FAILURES[:50]:
        terminalreporter.write_line(f"  {line}")
    out = settings.VAR_DIR / "fuzz-summary.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {"figures": dict(FIGURES), "failures_found": len(FAILURES), "failures": FAILURES},
            indent=2,
        )
    )


@pytest.fixture(autouse=True)
def _keep_the_test_connection():  # type: ignore[no-untyped-def]
    """schemathesis calls the WSGI application itself, so Django's ``request_started`` and
    ``request_finished`` run ``close_old_connections``, which closes the connection inside the
    test's transaction (the next query then fails). Django's test client disconnects it too."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)
