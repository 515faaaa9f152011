"""Figures of the fuzz run, printed at the end of the session (and kept in var/)."""

from __future__ import annotations

import json
from collections import Counter

from django.conf import settings

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
    out.write_text(json.dumps({"figures": dict(FIGURES), "failures": FAILURES}, indent=2))
