from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "observability"
    verbose_name = "Observability"

    def ready(self) -> None:
        # Connects the Celery signal handlers that carry request ids and time analyses.
        from observability import celery_signals  # noqa: F401
