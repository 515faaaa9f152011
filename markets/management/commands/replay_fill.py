"""``manage.py replay_fill [--interval 1d,1h]``: offline, bring every coin's candles up to now."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.progress import progress
from markets import selectors
from markets.clients import replay
from markets.services import candles_replay_fill


class Command(BaseCommand):
    help = (
        "Fill each active coin's candles from its newest stored one up to now with candles cut "
        "from the replayed market (source=replay), so an offline demo's charts reach the "
        "present and agree with the replayed prices. Does nothing when replay is not among "
        "MARKET_QUOTE_PROVIDERS or there is no sample data. Run by `make setup`."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--interval", default="1d,1h", help="comma-separated, default 1d,1h")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        intervals = [i.strip() for i in options["interval"].split(",") if i.strip()]
        bad = [i for i in intervals if i not in selectors.INTERVAL_SECONDS]
        if bad:
            raise CommandError(f"unknown interval(s): {', '.join(bad)}")
        if "replay" not in settings.MARKET_QUOTE_PROVIDERS or not replay.available_symbols():
            self.stdout.write("replay is off or there is no sample data: nothing to fill")
            return
        assets = list(selectors.asset_list())
        total = 0
        with progress(total=len(assets) * len(intervals), unit="series", desc="replay fill") as bar:
            for asset in assets:
                for interval in intervals:
                    total += candles_replay_fill(asset=asset, interval=interval)
                    bar.update(1)
        self.stdout.write(self.style.SUCCESS(f"{total} replay candles written up to now"))
