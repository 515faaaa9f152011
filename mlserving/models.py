"""Models of `mlserving`.

``ModelVersion`` is a read-only mirror of ``manifest.json`` for the admin (the manifest file
is the source of truth; :func:`mlserving.services.sync_registry` rebuilds this table).
"""

from django.db import models


class ModelVersion(models.Model):
    key = models.CharField(max_length=64, help_text="Caller's namespace (forecasts: coin symbol).")
    model = models.CharField(max_length=64)
    version = models.CharField(max_length=64)
    format = models.CharField(max_length=32, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(default=0)
    path = models.CharField(max_length=255, blank=True)
    aliases = models.CharField(max_length=128, blank=True, help_text="Comma-separated aliases.")
    skill_score = models.FloatField(
        null=True, blank=True, help_text="Walk-forward skill (lower is better; <1 beats naive)."
    )
    metrics = models.JSONField(default=dict, blank=True)
    training_window = models.JSONField(default=dict, blank=True)
    code_version = models.CharField(max_length=64, blank=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key", "model", "version"], name="mlserving_version_unique"
            )
        ]
        indexes = [models.Index(fields=["key", "model"], name="mlserving_key_model_idx")]
        ordering = ["key", "model", "-version"]

    def __str__(self) -> str:
        return f"{self.key}:{self.model}@{self.version}"

    @property
    def alias_list(self) -> list[str]:
        return [a for a in self.aliases.split(",") if a]
