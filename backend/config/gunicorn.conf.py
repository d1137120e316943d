"""The one gunicorn configuration: `make run`, the browser tests and the compose topology start
the web process with `gunicorn -c config/gunicorn.conf.py` from backend/.

Django runs under ASGI with uvicorn workers, so the live event stream (GET /api/studies/events/)
waits on an event loop rather than holding a worker. Settings come from the environment:
CXR_WEB_BIND (host:port, default 127.0.0.1:8000) and WEB_CONCURRENCY (worker processes, default 2).
"""

import os

from prometheus_client import multiprocess

from observability.metrics import multiprocess_dir, reset_multiprocess_dir

wsgi_app = "config.asgi:application"
worker_class = "uvicorn_worker.UvicornWorker"
bind = os.environ.get("CXR_WEB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# A worker that does not check in with the arbiter for this long is restarted. Under uvicorn the
# event loop checks in, so an open event stream does not count against it.
timeout = 120
# On stop, open event streams are cut after this long; the browser reconnects to another process.
graceful_timeout = 10
accesslog = "-"
# uvicorn would otherwise take the client's address and scheme from X-Forwarded-* headers of any
# loopback peer, so that any local client could forge them. Django decides which proxies to trust
# (CXR_TRUSTED_PROXY_COUNT, audit/client_address.py), from the peer address as gunicorn saw it.
forwarded_allow_ips = ""
# gunicorn's control socket (for gunicornc) is not used, and every gunicorn on a host would share
# its default path.
control_socket_disable = True


# With PROMETHEUS_MULTIPROC_DIR set, each worker writes its metrics to files there: the master
# clears the folder when it starts and tells the metrics library when a worker exits.
def on_starting(server: object) -> None:
    reset_multiprocess_dir()


def child_exit(server: object, worker: object) -> None:
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
