"""Models of `streaming`: the database stream log used by the embedded default.

In services mode the log lives in Redis (``streaming.services.log.RedisLog``); with no Redis
the web processes relay new rows of ``StreamEvent`` by id (``streaming.services.relay``), so a
Celery worker's publish reaches a browser without any server. Rows are trimmed to the newest
``STREAM_BUFFER_SIZE`` per channel on every append.
"""

from django.db import models


class StreamChannel(models.Model):
    """A channel's sequence counter: the ``seq`` of its newest message."""

    name = models.CharField(max_length=120, primary_key=True)
    seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} @ {self.seq}"


class StreamEvent(models.Model):
    """One published message (the bounded per-channel buffer used for resume)."""

    channel = models.CharField(max_length=120)
    seq = models.BigIntegerField()
    message = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "seq"], name="stream_event_channel_seq")
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.seq}"
