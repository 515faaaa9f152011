from django.apps import AppConfig

from core.health import register_probe
from mlserving.health import manifest_probe


class MlservingConfig(AppConfig):
    name = "mlserving"
    verbose_name = "Model serving"

    def ready(self) -> None:
        register_probe("model_manifest", manifest_probe)
