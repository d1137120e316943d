from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "observability"
    verbose_name = "Observability"

    def ready(self) -> None:
        # Connects the Celery signal handlers that carry request ids and time analyses.
        from observability import celery_signals  # noqa: F401
        from observability.metrics import model_load_observe
        from studies.inference import model_loaded

        model_loaded.connect(model_load_observe, dispatch_uid="observability-model-load")
