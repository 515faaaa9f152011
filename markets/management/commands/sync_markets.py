"""``manage.py sync_markets [--top N] [--provider NAME]``: fetch quotes now and store them."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.http import ProviderError
from markets.services import markets_sync


class Command(BaseCommand):
    help = "Fetch the latest quotes (provider failover) and register/update the assets."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--top", type=int, default=50, help="Top N by market cap (1-1000)")
        parser.add_argument("--provider", default=None, help="Only this provider (no failover)")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        top = options["top"]
        if not 1 <= top <= 1000:
            raise CommandError(f"--top must be between 1 and 1000, got {top}")
        try:
            result = markets_sync(top=top, provider=options["provider"])
        except (ProviderError, LookupError, ValueError) as exc:
            raise CommandError(f"sync failed: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.stored} quotes stored from {result.source} "
                f"({result.assets_created} new assets, {result.rejected} rejected)."
            )
        )
        if result.fallback_reason:
            self.stdout.write(self.style.WARNING(f"failover: {result.fallback_reason}"))
