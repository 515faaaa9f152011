"""``manage.py init_broker``: connect to the Celery broker once and declare its queues.

With the embedded SQLite broker, a worker and beat starting at the same instant race to
create the transport's tables; the loser's channel dies and beat keeps that dead producer.
Creating them up front (``make setup`` runs this) removes the race. Harmless on Redis.
"""

from __future__ import annotations

from celery import current_app
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Connect to the Celery broker and declare the task queues (idempotent)."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        try:
            with current_app.connection_for_write() as conn:
                conn.ensure_connection(
                    max_retries=3, interval_start=0.2, interval_step=0.5, interval_max=1
                )
                channel = conn.default_channel
                for queue in current_app.amqp.queues.values():
                    queue(channel).declare()
                transport = conn.transport_cls
        except Exception as exc:
            raise CommandError(f"Celery broker is unreachable: {exc}") from exc
        names = ", ".join(sorted(current_app.amqp.queues))
        self.stdout.write(f"broker ready ({transport}): queues {names}")
