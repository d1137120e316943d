"""ASGI entry point: gunicorn serves it with uvicorn workers (config/gunicorn.conf.py).

Under ASGI a long-lived request, such as the live study event stream, waits on the event loop
instead of holding a worker thread. Request bodies are limited in front of Django
(config/request_limits.py), since Django reads a whole body before any of its own checks run.
"""

import os

# Sync views run in a fresh thread per request under ASGI, so a connection kept for reuse would
# never be reused and would stay open until it timed out: close each at the end of its request.
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "0")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Imported after the environment above is set: importing Django's settings reads it.
from django.core.asgi import get_asgi_application

django_application = get_asgi_application()

# Imported once Django is set up: the layer reads settings and resolves URLs.
from config.request_limits import RequestBodyLimit  # noqa: E402

application = RequestBodyLimit(django_application)
