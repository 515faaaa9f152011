"""What every request pays for being observed: its log line and its Prometheus updates.

Side by side in one run, in process, on one fake request (``/api/v1/prices``, 200):
- the request log line through a structlog bound logger (what ``core.middleware`` did) vs
  ``core.logging.emit`` (same processors, same record, same rendered JSON line, written to
  /dev/null by the project's own handler and formatter);
- django-prometheus' stock before/after middleware vs the project's (fewer series, children
  looked up once), in multiprocess mode as under gunicorn.

Prints microseconds per request and the ratios. Goals: the log line <= 0.5x, the metrics
<= 0.5x of the stock figures. Run: ``.venv/bin/python bench/request_log.py [--n 20000]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
os.environ["LOG_FORMAT"] = "json"
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bench-prom-")

import django  # noqa: E402

django.setup()

import structlog  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.urls import resolve  # noqa: E402
from django_prometheus.middleware import PrometheusAfterMiddleware as StockAfter  # noqa: E402
from django_prometheus.middleware import PrometheusBeforeMiddleware as StockBefore  # noqa: E402

from core.logging import emit  # noqa: E402
from core.middleware import PrometheusAfterMiddleware, PrometheusBeforeMiddleware  # noqa: E402

GOAL = 0.5


def per_call_us(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    """Best of three CPU timings of n calls (the machine is shared)."""
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        for _ in range(n):
            fn()
        best = min(best, time.process_time() - t0)
    return best / n * 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=20000)
    args = ap.parse_args()
    devnull = open(os.devnull, "w")  # noqa: SIM115  (lives as long as the process)
    for handler in logging.getLogger().handlers:
        handler.stream = devnull  # type: ignore[attr-defined]

    request = RequestFactory().get("/api/v1/prices?ids=bitcoin")
    request.resolver_match = resolve("/api/v1/prices")
    response = HttpResponse(b"{}", content_type="application/json")
    bound = structlog.get_logger("cryptocast.request")
    stdlib = logging.getLogger("cryptocast.request")
    fields = {"method": "GET", "path": "/api/v1/prices", "status": 200, "duration_ms": 0.41}

    rows = []
    stock = per_call_us(lambda: bound.info("request", **fields), args.n)
    ours = per_call_us(lambda: emit(stdlib, logging.INFO, "request", **fields), args.n)
    rows.append(("request log line (structlog bound logger -> core.logging.emit)", stock, ours))

    def metrics(before, after):  # type: ignore[no-untyped-def]
        def one() -> None:
            before.process_request(request)
            after.process_request(request)
            after.process_view(request, None, (), {})
            after.process_response(request, response)
            before.process_response(request, response)

        return one

    def get_response(_request):  # type: ignore[no-untyped-def]
        return response

    stock = per_call_us(metrics(StockBefore(get_response), StockAfter(get_response)), args.n)
    ours = per_call_us(
        metrics(PrometheusBeforeMiddleware(get_response), PrometheusAfterMiddleware(get_response)),
        args.n,
    )
    rows.append(("prometheus before+after (django-prometheus -> core.middleware)", stock, ours))

    print(f"{args.n} calls, best of 3, CPU per request; shared machine: compare only this run")
    failed = 0
    for name, before, after in rows:
        ratio = after / before
        ok = ratio <= GOAL
        failed += not ok
        print(
            f"  {name}: {before:.1f} us -> {after:.1f} us = {ratio:.2f}x "
            f"(goal <= {GOAL}x: {'ok' if ok else 'MISSED'})"
        )
    print(f"summary: {len(rows) - failed}/{len(rows)} goals met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
