"""Base model mixins shared by every app."""

from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Lock(models.Model):
    """A named lease held by one process until ``expires_at`` (see ``core.locks``).

    The database fallback when no Redis is configured: a row, never per-process memory,
    so two workers (or a worker and a management command) still exclude each other.
    """

    name = models.CharField(primary_key=True, max_length=200)
    owner = models.CharField(max_length=64)
    expires_at = models.DateTimeField(db_index=True)
    acquired_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.owner} until {self.expires_at:%H:%M:%S}"
