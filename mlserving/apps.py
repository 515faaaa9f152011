from django.apps import AppConfig


class MlservingConfig(AppConfig):
    name = "mlserving"
    verbose_name = "Model serving"

    def ready(self) -> None:
        # AppConfig.ready() wiring: the probe's module reaches core.locks and its model, which
        # cannot be imported before the app registry is ready.
        from core.health import register_probe
        from mlserving.health import manifest_probe

        register_probe("model_manifest", manifest_probe)
