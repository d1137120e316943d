"""gunicorn reads this file from its working directory (backend/) wherever it is started.

With PROMETHEUS_MULTIPROC_DIR set, each gunicorn worker writes its metrics to files there; the
master clears the folder when it starts and tells the metrics library when a worker exits.
"""

from prometheus_client import multiprocess

from observability.metrics import multiprocess_dir, reset_multiprocess_dir


def on_starting(server: object) -> None:
    reset_multiprocess_dir()


def child_exit(server: object, worker: object) -> None:
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
