from django.apps import AppConfig


class MlservingConfig(AppConfig):
    name = "mlserving"
    verbose_name = "Model serving"

    def ready(self) -> None:
        from core.health import register_probe
        from mlserving.health import manifest_probe

        register_probe("model_manifest", manifest_probe)
