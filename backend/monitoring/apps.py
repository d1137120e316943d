from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Site acceptance and monitoring"

    def ready(self) -> None:
        # The acceptance run joins the job registry (common.jobs) in every process.
        import monitoring.dispatch  # noqa: F401
        from monitoring.drift import intake_refusal_count
        from monitoring.metrics import MonitoringCollector
        from observability.metrics import scrape_time_collector_register
        from studies.images import image_refused

        image_refused.connect(intake_refusal_count, dispatch_uid="monitoring-intake-refusal")
        scrape_time_collector_register(MonitoringCollector())
