"""gzip of JSON responses through CompressionMiddleware: size ratio and cost, one run.

A listing-shaped body (200 assets with every quote field, as ``/api/v1/prices/market?limit=200``
answers) goes through the middleware with and without ``Accept-Encoding: gzip``; prints the
compressed/plain size ratio and the per-response time of both.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.http import HttpResponse  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from core.middleware import CompressionMiddleware  # noqa: E402

ROWS = [
    {
        "id": f"coin-{i}",
        "symbol": f"C{i}",
        "name": f"Coin {i}",
        "rank": i + 1,
        "price": 1000.0 / (i + 1) + 0.123456,
        "market_cap": 1e12 / (i + 1),
        "volume_24h": 5e9 / (i + 1),
        "change_1h": 0.1 * i,
        "change_24h": -0.5 * i,
        "change_7d": 1.5,
        "change_30d": -3.2,
        "source": "coingecko",
        "as_of": "2026-12-02T06:00:00Z",
        "fetched_at": "2026-12-02T06:00:01Z",
        "stale": False,
        "fallback_reason": "",
    }
    for i in range(200)
]
BODY = json.dumps({"vs": "usd", "count": 200, "data": ROWS}).encode()
N = 500


def run(accept: str) -> tuple[int, float]:
    rf = RequestFactory()
    mw = CompressionMiddleware(lambda r: HttpResponse(BODY, content_type="application/json"))
    size = 0
    started = time.perf_counter()
    for _ in range(N):
        response = mw(rf.get("/api/v1/prices/market", HTTP_ACCEPT_ENCODING=accept))
        size = len(response.content)
    return size, (time.perf_counter() - started) / N * 1000


if __name__ == "__main__":
    plain, plain_ms = run("identity")
    zipped, zipped_ms = run("gzip")
    print(
        f"body {plain} bytes -> gzip {zipped} bytes: ratio {zipped / plain:.3f} "
        f"({plain / zipped:.1f}x smaller)"
    )
    print(
        f"per response: plain {plain_ms:.3f} ms, gzip {zipped_ms:.3f} ms "
        f"(+{zipped_ms - plain_ms:.3f} ms)"
    )
