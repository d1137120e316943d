"""Prometheus metrics of the web and worker processes, and what is counted when they are scraped.

gunicorn and Celery's prefork pool each run several processes. With PROMETHEUS_MULTIPROC_DIR set (one
folder per process tree, as docker-compose.yml and the topology test set it) every process writes its
samples to files there and the process that serves the metrics adds them up; without it (`make run`,
in-process tests) they stay in this process's registry.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from celery import current_app
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector


@dataclass(frozen=True)
class Metrics:
    http_requests: Counter
    http_latency: Histogram
    task_duration: Histogram
    task_failures: Counter
    model_load: Histogram


@cache
def metrics() -> Metrics:
    """Made on first use, so that a process that observes nothing (a `manage.py` command, the worker's
    health check) leaves no sample files in the shared folder."""
    folder = multiprocess_dir()
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    return Metrics(
        http_requests=Counter(
            "cxr_http_requests_total", "HTTP requests answered by Django", ["method", "route", "status"]
        ),
        http_latency=Histogram(
            "cxr_http_request_duration_seconds",
            "Time Django took to answer a request",
            ["method", "route"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        ),
        task_duration=Histogram(
            "cxr_task_duration_seconds",
            "Time a worker spent on one task (studies.analyze_study is one analysis)",
            ["task", "state"],
            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
        ),
        task_failures=Counter("cxr_task_failures_total", "Tasks that raised an exception", ["task"]),
        model_load=Histogram(
            "cxr_model_load_seconds",
            "Time a worker process took to load the model",
            buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60),
        ),
    )


def multiprocess_dir() -> Path | None:
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(configured) if configured else None


def reset_multiprocess_dir() -> None:
    """Forget the samples of an earlier run: called once when a process tree starts, before it forks."""
    folder = multiprocess_dir()
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def process_tree_registry() -> CollectorRegistry:
    """The samples of every process of this tree (or of this process alone without the folder)."""
    if multiprocess_dir() is None:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def model_load_observe(*, seconds: float, **_: Any) -> None:
    """The receiver of studies.inference.model_loaded."""
    metrics().model_load.observe(seconds)


class JobsByStatusCollector(Collector):
    """Counted in PostgreSQL at scrape time, so every web process reports the same numbers."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        # Imported here, not above: gunicorn's config imports this module before Django is set up.
        from django.db.models import Count

        from common.jobs import JOB_KINDS, JobStatus

        # Every kind of background work (common.jobs), the studies under their own older name.
        studies = GaugeMetricFamily("cxr_studies", "Studies by status", labels=["status"])
        jobs = GaugeMetricFamily("cxr_jobs", "Background jobs by kind and status", labels=["kind", "status"])
        for kind in JOB_KINDS.values():
            counts = dict(kind.model.objects.values_list("status").annotate(count=Count("pk")).order_by())
            for status in JobStatus.values:
                jobs.add_metric([kind.name, status], counts.get(status, 0))
                if kind.name == "study":
                    studies.add_metric([status], counts.get(status, 0))
        yield studies
        yield jobs


class QueueDepthCollector(Collector):
    """Analyses waiting in the broker: Redis keeps a Celery queue as a list."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.conf import settings

        if settings.CXR_EMBEDDED_TASKS:
            return
        family = GaugeMetricFamily("cxr_queue_depth", "Tasks waiting in the broker queue", labels=["queue"])
        # The project's app (config.celery_app), which Django's start made the current one.
        with current_app.connection_for_write() as connection:
            # The study queue and the analysers' own (config/celery_app.py).
            for queue in (settings.CELERY_TASK_DEFAULT_QUEUE, settings.CXR_ANALYSER_QUEUE):
                family.add_metric([queue], connection.default_channel.client.llen(queue))
        yield family


# Collectors of the integrations beside this one (monitoring's drift gauges), registered from their
# AppConfig.ready, so that observability names none of them.
SCRAPE_TIME_COLLECTORS: list[Collector] = []


def scrape_time_collector_register(collector: Collector) -> None:
    SCRAPE_TIME_COLLECTORS.append(collector)


def render_web_metrics() -> bytes:
    """The process tree's samples, then what the database and the broker say now."""
    scrape_time = CollectorRegistry()
    scrape_time.register(JobsByStatusCollector())
    scrape_time.register(QueueDepthCollector())
    for collector in SCRAPE_TIME_COLLECTORS:
        scrape_time.register(collector)
    return generate_latest(process_tree_registry()) + generate_latest(scrape_time)
