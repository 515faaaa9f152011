"""Writes of `alerts` (keyword-only, typed, transactional; effects on commit).

Split by sub-domain: ``watchlists``, ``rules`` (alert CRUD and validation), ``evaluation``
(bulk evaluation, dry runs), ``notifications`` (outbox, delivery, digests, read state),
``webhooks``.
"""

from .anomalies import anomalies_detect
from .evaluation import DryRun, EvaluationReport, alert_dry_run, alerts_evaluate
from .notifications import (
    DeliveryOutcome,
    deliveries_due,
    deliveries_enqueue,
    delivery_send,
    digests_send,
    notification_mark_read,
    notifications_mark_all_read,
    notifications_write,
    preference_update,
)
from .rules import alert_create, alert_delete, alert_description, alert_update, clean_params
from .watchlists import watchlist_create, watchlist_delete, watchlist_remove_coin, watchlist_update
from .webhooks import webhook_create, webhook_delete, webhook_update

__all__ = [
    "DeliveryOutcome",
    "DryRun",
    "EvaluationReport",
    "alert_create",
    "alert_delete",
    "alert_description",
    "alert_dry_run",
    "alert_update",
    "alerts_evaluate",
    "anomalies_detect",
    "clean_params",
    "deliveries_due",
    "deliveries_enqueue",
    "delivery_send",
    "digests_send",
    "notification_mark_read",
    "notifications_mark_all_read",
    "notifications_write",
    "preference_update",
    "watchlist_create",
    "watchlist_delete",
    "watchlist_remove_coin",
    "watchlist_update",
    "webhook_create",
    "webhook_delete",
    "webhook_update",
]
