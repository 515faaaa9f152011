"""What the CoinGecko-compatible API and ``vs=`` cost, measured side by side in one process.

In-process (Django test client, full middleware stack, embedded temp SQLite + locmem cache):
requests/s of ``/api/v1/prices?vs=usd`` (cached, the reference), ``/api/v1/prices?vs=eur``
(cached, converted when built), ``/coingecko/api/v3/simple/price`` (usd, and usd+eur+btc;
built from the store on every call) and ``coins/markets``; prints each as a ratio of the
reference. Run: ``.venv/bin/python bench/coingecko_compat.py [--seconds 2]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IDS = "bitcoin,ethereum,solana,cardano,dogecoin"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="cc-bench-cg-")
    os.environ.setdefault("CRYPTOCAST_VAR_DIR", tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import logging
    from datetime import UTC, date, datetime

    from django.core.management import call_command
    from django.test import Client

    from fx.contracts import DailyRates
    from fx.services import rates_store
    from markets import services
    from markets.clients.known_assets import KNOWN_ASSETS
    from markets.contracts import QuoteBatch, QuoteData

    logging.disable(logging.INFO)  # the console request log would dominate every figure
    call_command("migrate", verbosity=0)
    now = datetime.now(UTC)
    quotes = tuple(
        QuoteData(
            asset=a,
            price=100.0 + i,
            source="replay",
            as_of=now,
            fetched_at=now,
            market_cap=1e9,
            volume_24h=1e8,
            change_24h=1.0,
        )
        for i, a in enumerate(KNOWN_ASSETS.values())
    )
    services.quotes_store(batch=QuoteBatch(quotes=quotes, source="replay"))
    # Hand-made rates: the bench measures cost, not values.
    rates_store(days=[DailyRates(day=date.today(), rates=(("eur", 0.9),), source="bench")])
    client = Client()
    paths = {
        "prices vs=usd (cached, reference)": f"/api/v1/prices?ids={IDS}&vs=usd",
        "prices vs=eur (cached)": f"/api/v1/prices?ids={IDS}&vs=eur",
        "cg simple/price usd": f"/coingecko/api/v3/simple/price?ids={IDS}&vs_currencies=usd",
        "cg simple/price usd,eur,btc": (
            f"/coingecko/api/v3/simple/price?ids={IDS}&vs_currencies=usd,eur,btc"
            "&include_market_cap=true&include_24hr_change=true"
        ),
        "cg coins/markets usd": "/coingecko/api/v3/coins/markets?vs_currency=usd&per_page=50",
    }
    counts = dict.fromkeys(paths, 0)
    spent = dict.fromkeys(paths, 0.0)
    for path in paths.values():
        assert client.get(path).status_code == 200, path
    for _ in range(args.rounds):  # alternate in rounds: a busy machine slows all alike
        for label, path in paths.items():
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < args.seconds / args.rounds:
                client.get(path)
                counts[label] += 1
            spent[label] += time.perf_counter() - t0
    rates = {label: counts[label] / spent[label] for label in paths}
    ref = rates["prices vs=usd (cached, reference)"]
    for label, rps in rates.items():
        print(f"{label:40s} {rps:8.0f} req/s  {rps / ref:5.2f}x")


if __name__ == "__main__":
    main()
