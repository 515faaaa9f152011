"""``manage.py backfill_candles --symbol SYM --interval 1d --since DATE [--until DATE]``."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from core.http import ProviderError
from core.progress import progress
from markets.models import Interval
from markets.selectors import AssetNotFound, asset_get
from markets.services import InvalidCandle, candles_backfill


def _date(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise CommandError(f"not a date: {text!r} (use YYYY-MM-DD)") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Deep history from Binance klines (idempotent: re-running rewrites the same rows)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--symbol", required=True, help="Asset id or symbol (bitcoin, BTC)")
        parser.add_argument("--interval", default="1d", choices=Interval.values)
        parser.add_argument("--since", required=True, help="YYYY-MM-DD (UTC)")
        parser.add_argument("--until", default=None, help="YYYY-MM-DD (UTC), default now")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        since = _date(options["since"])
        until = _date(options["until"]) if options["until"] else None
        if until is not None and until < since:
            raise CommandError("--until is before --since")
        try:
            asset = asset_get(options["symbol"])
        except AssetNotFound as exc:
            raise CommandError(str(exc)) from exc
        if not asset.binance_symbol:
            raise CommandError(f"{asset.pk} has no Binance pair; set binance_symbol in the admin")
        with progress(unit="candle", desc=f"{asset.pk} {options['interval']}") as bar:
            try:
                result = candles_backfill(
                    asset=asset,
                    interval=options["interval"],
                    since=since,
                    until=until,
                    progress=bar.update,
                )
            except (ProviderError, InvalidCandle) as exc:
                raise CommandError(f"backfill failed: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.written} candles written for {asset.pk} {result.interval} "
                f"({result.first} .. {result.last}, {result.pages} page(s))."
            )
        )
