"""Bulk candle upsert vs raw COPY of the same rows, PostgreSQL, one run, side by side.

    DATABASE_URL=postgres://... .venv/bin/python bench/candle_upsert.py [--rows 100000]

Both load the same rows into an empty table with the same indexes and constraints
(``markets_candle`` for the upsert, ``CREATE TEMP TABLE ... (LIKE markets_candle INCLUDING ALL)``
for COPY). Everything runs inside one transaction that is rolled back: the database is left as
it was. Goal (DESIGN.md): upsert >= 0.3x COPY rows/s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--assets", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3, help="best of N for each method")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, transaction

    from markets.contracts import AssetData, CandleData
    from markets.models import Asset, Candle
    from markets.services import assets_upsert, candles_upsert_many

    if connection.vendor != "postgresql":
        sys.exit("this benchmark needs PostgreSQL: set DATABASE_URL")

    per_asset = args.rows // args.assets
    t0 = datetime(2000, 1, 1, tzinfo=UTC)
    groups = []
    for a in range(args.assets):
        candles = []
        for i in range(per_asset):
            p = 100.0 + (i % 1000) * 0.01 + a
            candles.append(
                CandleData(
                    t0 + timedelta(hours=i), p, p + 1.0, p - 1.0, p + 0.5, 10.0 + i % 7, "bench"
                )
            )
        groups.append((f"bench-{a}", candles))
    total = per_asset * args.assets

    def run_upsert(copy_min: int) -> float:
        settings.MARKETS_UPSERT_COPY_MIN_ROWS = copy_min
        with transaction.atomic():
            assets = assets_upsert(
                assets=[
                    AssetData(slug=s, symbol=f"BN{i}", name=s) for i, (s, _) in enumerate(groups)
                ]
            ).assets
            start = time.perf_counter()
            candles_upsert_many(items=[(assets[s], "1h", c) for s, c in groups])
            elapsed = time.perf_counter() - start
            assert Candle.objects.filter(asset__id__startswith="bench-").count() == total
            transaction.set_rollback(True)
        return elapsed

    changed_groups = [
        (slug, [replace(c, close=c.close + 0.25, high=c.high + 0.25) for c in candles])
        for slug, candles in groups
    ]

    def run_update(copy_min: int, second=None) -> float:  # type: ignore[no-untyped-def]
        """The rows again (``second``: with changed values): every one conflicts."""
        settings.MARKETS_UPSERT_COPY_MIN_ROWS = copy_min
        with transaction.atomic():
            assets = assets_upsert(
                assets=[
                    AssetData(slug=s, symbol=f"BN{i}", name=s) for i, (s, _) in enumerate(groups)
                ]
            ).assets
            candles_upsert_many(items=[(assets[s], "1h", c) for s, c in groups])
            start = time.perf_counter()
            candles_upsert_many(items=[(assets[s], "1h", c) for s, c in (second or groups)])
            elapsed = time.perf_counter() - start
            transaction.set_rollback(True)
        return elapsed

    def run_copy() -> float:
        with transaction.atomic():
            assets = assets_upsert(
                assets=[
                    AssetData(slug=s, symbol=f"BN{i}", name=s) for i, (s, _) in enumerate(groups)
                ]
            ).assets
            with connection.cursor() as cur:
                cur.execute(
                    "CREATE TEMP TABLE bench_candle "
                    "(LIKE markets_candle INCLUDING ALL) ON COMMIT DROP"
                )
                raw = cur.cursor  # the psycopg cursor under Django's wrapper
                start = time.perf_counter()
                cols = "(asset_id, interval, open_time, open, high, low, close, volume, source)"
                with raw.copy(f"COPY bench_candle {cols} FROM STDIN") as copy:
                    for slug, candles in groups:
                        for c in candles:
                            copy.write_row(
                                (
                                    assets[slug].pk,
                                    "1h",
                                    c.open_time,
                                    c.open,
                                    c.high,
                                    c.low,
                                    c.close,
                                    c.volume,
                                    c.source,
                                )
                            )
                elapsed = time.perf_counter() - start
                cur.execute("SELECT count(*) FROM bench_candle")
                assert cur.fetchone()[0] == total
            transaction.set_rollback(True)
        return elapsed

    # Sanity: nothing left from a previous interrupted run.
    Asset.objects.filter(pk__startswith="bench-").delete()
    default_min = settings.MARKETS_UPSERT_COPY_MIN_ROWS
    copy_s = min(run_copy() for _ in range(args.repeat))
    upsert_s = min(run_upsert(default_min) for _ in range(args.repeat))
    update_s = min(run_update(default_min) for _ in range(args.repeat))
    changed_s = min(run_update(default_min, changed_groups) for _ in range(args.repeat))
    orm_s = min(run_upsert(0) for _ in range(args.repeat))
    orm_update_s = min(run_update(0) for _ in range(args.repeat))
    settings.MARKETS_UPSERT_COPY_MIN_ROWS = default_min
    print(
        f"rows: {total} ({args.assets} assets x {per_asset}), best of {args.repeat}, "
        f"PostgreSQL {connection.pg_version // 10000}"
    )
    copy_rate = total / copy_s
    lines = [
        ("raw COPY into empty table", copy_s),
        ("candles_upsert (PG bulk path), empty table", upsert_s),
        ("candles_upsert (PG bulk path), identical re-run", update_s),
        ("candles_upsert (PG bulk path), all rows changed", changed_s),
        ("candles_upsert (bulk_create path), empty", orm_s),
        ("candles_upsert (bulk_create path), identical re-run", orm_update_s),
    ]
    for label, seconds in lines:
        rate = total / seconds
        print(f"{label:50s}: {rate:10,.0f} rows/s ({seconds:6.3f} s) {rate / copy_rate:5.2f}x COPY")
    ratio = (total / upsert_s) / copy_rate
    print(
        f"ratio upsert/COPY (default engine, MARKETS_UPSERT_COPY_MIN_ROWS={default_min}): "
        f"{ratio:.2f}x (goal >= 0.30x) -> " + ("OK" if ratio >= 0.3 else "BELOW GOAL")
    )


if __name__ == "__main__":
    main()
