"""Celery's side of observability: request ids through task headers, task times, the worker's metrics."""

import logging
import os
import time
from contextvars import Token

from celery import Task
from celery.signals import before_task_publish, task_failure, task_postrun, task_prerun, worker_init
from prometheus_client import start_http_server

from observability.metrics import metrics, process_tree_registry, reset_multiprocess_dir
from observability.request_id import NO_REQUEST, current_request_id

logger = logging.getLogger(__name__)

# The message header that carries the id of the request that queued a task.
REQUEST_ID_TASK_HEADER = "cxr_request_id"

# The tasks this process runs, by task id: when each started, and the request id to go back to after it.
running_tasks: dict[str, tuple[float, Token[str]]] = {}


@before_task_publish.connect
def attach_request_id(headers: dict | None = None, **kwargs: object) -> None:
    request_id = current_request_id.get()
    if headers is not None and request_id != NO_REQUEST:
        headers[REQUEST_ID_TASK_HEADER] = request_id


@task_prerun.connect
def start_task(task_id: str, task: Task, args: tuple = (), **kwargs: object) -> None:
    request_id = task_request_id(task) or current_request_id.get()
    running_tasks[task_id] = (time.perf_counter(), current_request_id.set(request_id))
    # A task's arguments are ids (of a study, say), never patient data: they say what the task is about.
    logger.info("Task %s[%s] started for %s", task.name, task_id, ", ".join(map(str, args)))


def task_request_id(task: Task) -> str | None:
    """The id the message carries: a worker makes custom headers attributes of the task's request, a
    task applied in the calling process keeps them in `headers` (and otherwise keeps the caller's id)."""
    carried = getattr(task.request, REQUEST_ID_TASK_HEADER, None)
    return carried or (task.request.headers or {}).get(REQUEST_ID_TASK_HEADER)


@task_postrun.connect
def finish_task(task_id: str, task: Task, state: str | None = None, **kwargs: object) -> None:
    if task_id not in running_tasks:
        return
    started, previous_request_id = running_tasks.pop(task_id)
    elapsed = time.perf_counter() - started
    metrics().task_duration.labels(task.name, state or "UNKNOWN").observe(elapsed)
    logger.info("Task %s[%s] finished in %.2f s: %s", task.name, task_id, elapsed, state)
    current_request_id.reset(previous_request_id)


@task_failure.connect
def count_failure(sender: Task | None = None, **kwargs: object) -> None:
    metrics().task_failures.labels(sender.name if sender is not None else "unknown").inc()


@worker_init.connect
def serve_worker_metrics(**kwargs: object) -> None:
    """Run in the worker's main process before it forks its pool: Prometheus scrapes it there."""
    reset_multiprocess_dir()
    port = os.environ.get("CXR_WORKER_METRICS_PORT", "")
    if port.strip():
        address = os.environ.get("CXR_WORKER_METRICS_ADDRESS", "0.0.0.0")
        start_http_server(int(port), addr=address, registry=process_tree_registry())
        logger.info("Worker metrics at http://%s:%s/metrics", address, port)
