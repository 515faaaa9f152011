"""Models of `alerts`: watchlists, alert rules with per-coin state, the immutable event log,
notifications and their delivery outbox, webhooks and per-user preferences.

Values (prices, volumes, probabilities) are floats, as everywhere in the project.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from alerts.contracts import Kind, State, Trigger


class Watchlist(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watchlists"
    )
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="alerts_watchlist_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class WatchlistItem(models.Model):
    watchlist = models.ForeignKey(Watchlist, on_delete=models.CASCADE, related_name="items")
    asset = models.ForeignKey("markets.Asset", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["watchlist", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["watchlist", "asset"], name="alerts_watchlistitem_unique_asset"
            )
        ]

    def __str__(self) -> str:
        return f"{self.watchlist_id}:{self.asset_id}"


# What a user sets on a rule besides its name and target (edited by alerts.services, exported
# by alerts.selectors in the user's data export).
ALERT_RULE_FIELDS = (
    "kind",
    "params",
    "trigger",
    "for_seconds",
    "hysteresis_pct",
    "cooldown_seconds",
    "bar_seconds",
    "stale_seconds",
    "expires_at",
)


class Alert(models.Model):
    """One rule: a condition on one coin, or on every coin of a watchlist (each on its own)."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        PAUSED = "paused"
        EXPIRED = "expired"
        COMPLETED = "completed"  # a ``once`` alert that fired

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts"
    )
    name = models.CharField(max_length=100, blank=True)
    asset = models.ForeignKey(
        "markets.Asset", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    watchlist = models.ForeignKey(
        Watchlist, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    kind = models.CharField(max_length=40, choices=[(k.value, k.value) for k in Kind])
    params = models.JSONField(default=dict)
    trigger = models.CharField(
        max_length=16, choices=[(t.value, t.value) for t in Trigger], default=Trigger.EVERY_TIME
    )
    for_seconds = models.PositiveIntegerField(default=0)
    hysteresis_pct = models.FloatField(default=0.0)
    cooldown_seconds = models.PositiveIntegerField(default=0)
    bar_seconds = models.PositiveIntegerField(default=3600)
    stale_seconds = models.PositiveIntegerField(default=300)
    expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(asset__isnull=False) & Q(watchlist__isnull=True))
                | (Q(asset__isnull=True) & Q(watchlist__isnull=False)),
                name="alerts_alert_asset_xor_watchlist",
            ),
            models.CheckConstraint(
                condition=Q(hysteresis_pct__gte=0) & Q(hysteresis_pct__lte=50),
                name="alerts_alert_hysteresis_range",
            ),
        ]
        indexes = [models.Index(fields=["status", "asset"], name="alerts_alert_status_asset")]

    def __str__(self) -> str:
        return self.name or f"{self.kind} #{self.pk}"


class AlertState(models.Model):
    """What a rule remembers about one coin (its state and the last value it saw)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="states")
    asset = models.ForeignKey("markets.Asset", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(
        max_length=16, choices=[(s.value, s.value) for s in State], default=State.NORMAL
    )
    since = models.DateTimeField(null=True, blank=True)
    pending_since = models.DateTimeField(null=True, blank=True)
    last_value = models.FloatField(null=True, blank=True)
    last_observation_key = models.CharField(max_length=100, blank=True)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    last_fired_key = models.CharField(max_length=100, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "asset"], name="alerts_state_unique")
        ]

    def __str__(self) -> str:
        return f"{self.alert_id}:{self.asset_id} {self.state}"


class AlertEvent(models.Model):
    """One state transition (immutable), with the values that caused it and their provenance."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    asset = models.ForeignKey("markets.Asset", on_delete=models.CASCADE, related_name="+")
    from_state = models.CharField(max_length=16)
    to_state = models.CharField(max_length=16)
    observation_key = models.CharField(max_length=100)
    value = models.FloatField(null=True, blank=True)
    reason = models.CharField(max_length=500)
    values = models.JSONField(default=dict)
    source = models.CharField(max_length=32, blank=True)
    as_of = models.DateTimeField(null=True, blank=True)
    notified = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Re-running an evaluation over the same observation never records (or fires) twice.
            models.UniqueConstraint(
                fields=["alert", "asset", "observation_key", "to_state"],
                name="alerts_event_unique_per_observation",
            )
        ]
        indexes = [models.Index(fields=["alert", "-created_at"], name="alerts_event_alert_time")]

    def __str__(self) -> str:
        return f"{self.alert_id}:{self.asset_id} {self.from_state}->{self.to_state}"


class Notification(models.Model):
    """The in-app notification of a firing (the user's inbox)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_notifications"
    )
    event = models.OneToOneField(
        AlertEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="notification"
    )
    title = models.CharField(max_length=200)
    body = models.TextField()
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="alerts_notif_user_read"),
            models.Index(fields=["user", "-created_at"], name="alerts_notif_user_time"),
        ]

    def __str__(self) -> str:
        return self.title


def _secret() -> str:
    return secrets.token_urlsafe(32)


class Webhook(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_webhooks"
    )
    url = models.URLField(max_length=500)
    # Needed in clear to sign each delivery (HMAC-SHA256); shown to its owner only.
    secret = models.CharField(max_length=64, default=_secret)
    is_active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url


class Delivery(models.Model):
    """The outbox: one row per notification and channel, written with the event.

    Tasks claim a row (``pending`` -> ``sending`` with a lease), send, then mark it ``sent``.
    A worker killed mid-send leaves a lapsed lease that the sweep re-claims; the
    ``idempotency_key`` goes with the message so the receiver sees one notification.
    """

    class Channel(models.TextChoices):
        PUSH = "push"
        EMAIL = "email"
        WEBHOOK = "webhook"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        DIGEST = "digest"  # waits for the daily digest mail
        FAILED = "failed"  # gave up (see last_error)

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    webhook = models.ForeignKey(
        Webhook, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    idempotency_key = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="alerts_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.pk} {self.status}"


class Preference(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_preference"
    )
    push = models.BooleanField(default=True)
    email = models.BooleanField(default=False)
    webhook = models.BooleanField(default=True)
    quiet_start = models.TimeField(null=True, blank=True, help_text="UTC")
    quiet_end = models.TimeField(null=True, blank=True, help_text="UTC")
    daily_digest = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"


class Anomaly(models.Model):
    """An unusual daily move or volume of a coin (robust z-score against the previous 30 days)."""

    asset = models.ForeignKey("markets.Asset", on_delete=models.CASCADE, related_name="+")
    open_time = models.DateTimeField(help_text="open_time of the daily candle flagged")
    kind = models.CharField(max_length=16)  # "return" | "volume"
    score = models.FloatField(help_text="robust z-score (signed for returns)")
    value = models.FloatField(help_text="the day's return in % or volume multiple of the median")
    source = models.CharField(max_length=32, blank=True)
    detected_at = models.DateTimeField()

    class Meta:
        ordering = ["-open_time", "asset_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "open_time", "kind"], name="alerts_anomaly_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.open_time:%Y-%m-%d} {self.kind} z={self.score}"
