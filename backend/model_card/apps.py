from django.apps import AppConfig


class ModelCardConfig(AppConfig):
    name = "model_card"
    verbose_name = "Model card"
