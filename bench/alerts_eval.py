"""Alert evaluation on one quote batch: the bulk service vs a naive per-alert loop, one run.

    .venv/bin/python bench/alerts_eval.py [--alerts 10000] [--coins 200]

Both evaluate the same active alerts (spread over ``--coins`` coins and several users, a mix
of price, crossing, range and percent-move conditions) after the same quote batch, starting
from the same stored states (a savepoint is rolled back between them), with the same pure
``evaluate``. The naive loop is what a per-alert implementation does: read the alert's state
and the coin's latest quote, evaluate, write the state and the event. Printed: alerts
evaluated per second and queries per batch for each, and the ratio. Everything runs in one
transaction that is rolled back: the database is left as it was.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--coins", type=int, default=200)
    parser.add_argument("--users", type=int, default=100)
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from alerts.engine import evaluate
    from alerts.models import Alert, AlertEvent, AlertState
    from alerts.selectors import observations_for
    from alerts.services import alerts_evaluate
    from alerts.services.evaluation import _rule_state
    from alerts.services.rules import rule_of
    from markets.contracts import AssetData, QuoteBatch, QuoteData
    from markets.services import assets_upsert, quotes_store

    User = get_user_model()
    coins = [
        AssetData(slug=f"bench-{i}", symbol=f"BN{i}", name=f"Bench {i}") for i in range(args.coins)
    ]
    kinds = [
        ("greater_than", lambda p: {"value": p * 1.01}),
        ("less_than", lambda p: {"value": p * 0.97}),
        ("crosses_above", lambda p: {"value": p * 1.005}),
        ("crosses_below", lambda p: {"value": p * 0.99}),
        ("enters_range", lambda p: {"low": p * 1.0, "high": p * 1.05}),
        ("pct_move", lambda p: {"window": "24h", "direction": "either", "percent": 3.0}),
    ]

    def batch(prices: dict[str, float], at: datetime) -> None:
        quotes = tuple(
            QuoteData(
                asset=c,
                price=prices[c.slug],
                source="bench",
                as_of=at,
                fetched_at=at,
                change_24h=(prices[c.slug] / 100.0 - 1) * 100,
            )
            for c in coins
        )
        quotes_store(batch=QuoteBatch(quotes=quotes, source="bench"))

    class Counter:
        """Counts every statement (CaptureQueriesContext keeps only the last 9000)."""

        def __init__(self) -> None:
            self.n = 0

        def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
            self.n += 1
            return execute(sql, params, many, context)

    results: dict[str, tuple[float, int, int]] = {}
    try:
        with transaction.atomic():
            assets_upsert(assets=coins)
            users = User.objects.bulk_create(
                [User(email=f"bench{i}@example.invalid") for i in range(args.users)]
            )
            if users[0].pk is None:
                users = list(
                    User.objects.filter(email__startswith="bench", email__endswith=".invalid")
                )
            base = {c.slug: 100.0 + i for i, c in enumerate(coins)}
            Alert.objects.bulk_create(
                [
                    Alert(
                        user=users[i % len(users)],
                        asset_id=coins[i % len(coins)].slug,
                        kind=kinds[i % len(kinds)][0],
                        params=kinds[i % len(kinds)][1](base[coins[i % len(coins)].slug]),
                        stale_seconds=600,
                    )
                    for i in range(args.alerts)
                ],
                batch_size=2000,
            )
            now = datetime.now(UTC)
            batch(base, now - timedelta(seconds=60))
            alerts_evaluate(asset_ids=None)  # states exist (previous values for crossings)
            moved = {s: p * (1.02 if i % 2 else 0.96) for i, (s, p) in enumerate(base.items())}
            batch(moved, now)
            ids = [c.slug for c in coins]

            sid = transaction.savepoint()
            ctx = Counter()
            with connection.execute_wrapper(ctx):
                t0 = time.perf_counter()
                report = alerts_evaluate(asset_ids=ids)
                bulk_s = time.perf_counter() - t0
            results["bulk service"] = (bulk_s, ctx.n, report.fired)
            transaction.savepoint_rollback(sid)

            ctx = Counter()
            with connection.execute_wrapper(ctx):
                t0 = time.perf_counter()
                fired = 0
                for alert in Alert.objects.filter(status="active", asset_id__in=ids):
                    state = AlertState.objects.filter(alert=alert, asset_id=alert.asset_id).first()
                    obs = observations_for(asset_ids=[alert.asset_id], kinds={alert.kind})
                    t = evaluate(
                        rule_of(alert),
                        obs[alert.asset_id],
                        state=_rule_state(state),
                        now=datetime.now(UTC),
                    )
                    if state is None:
                        state = AlertState(alert=alert, asset_id=alert.asset_id)
                    state.last_value = obs[alert.asset_id].price
                    if t is not None:
                        state.state = t.to_state
                        if t.notify:
                            fired += 1
                            state.last_fired_at = t.at
                        AlertEvent.objects.create(
                            alert=alert,
                            asset_id=alert.asset_id,
                            from_state=t.from_state,
                            to_state=t.to_state,
                            observation_key=t.observation_key,
                            value=t.value,
                            reason=t.reason,
                            values=t.values,
                            notified=t.notify,
                            created_at=t.at,
                        )
                    state.save()
                naive_s = time.perf_counter() - t0
            results["naive per-alert loop"] = (naive_s, ctx.n, fired)
            raise Rollback
    except Rollback:
        pass

    print(
        f"alerts_eval: {args.alerts} active alerts over {args.coins} coins, one quote batch "
        f"({connection.vendor})"
    )
    print(f"{'method':<22} {'seconds':>9} {'alerts/s':>10} {'queries':>8} {'fired':>6}")
    for name, (secs, queries, fired) in results.items():
        print(f"{name:<22} {secs:>9.3f} {args.alerts / secs:>10.0f} {queries:>8} {fired:>6}")
    bulk, naive = results["bulk service"], results["naive per-alert loop"]
    print(
        f"ratio: bulk is {naive[0] / bulk[0]:.1f}x the naive loop's alerts/s with "
        f"{bulk[1]} vs {naive[1]} queries ({naive[1] / max(bulk[1], 1):.0f}x fewer)"
    )
    if bulk[2] != naive[2]:
        sys.exit(f"mismatch: bulk fired {bulk[2]}, naive {naive[2]}")


if __name__ == "__main__":
    main()
