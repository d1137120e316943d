"""The one gunicorn configuration: `make run`, the browser tests and the compose topology start
the web process with `gunicorn -c config/gunicorn.conf.py` from backend/.

Django runs under ASGI with uvicorn workers, so the live event stream (GET /api/studies/events/)
waits on an event loop rather than holding a worker. Settings come from the environment:
CXR_WEB_BIND (host:port, default 127.0.0.1:8000) and WEB_CONCURRENCY (worker processes, default 2).
"""

import os

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
