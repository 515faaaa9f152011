from django.apps import AppConfig


class MlservingConfig(AppConfig):
    name = "mlserving"
    verbose_name = "Model serving"
