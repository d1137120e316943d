"""One check per dependency. Each answers {"ok": bool, ...} and never raises."""

import uuid
from typing import Any

from celery import current_app as celery_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from studies.inference import active_model_card


def check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "engine": connection.vendor}
    except Exception as error:
        return {"ok": False, "engine": connection.vendor, "detail": str(error)}


def check_cache() -> dict[str, Any]:
    key = f"health:{uuid.uuid4()}"
    try:
        cache.set(key, "ok", 10)
        ok = cache.get(key) == "ok"
        cache.delete(key)
        return {"ok": ok, "backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}
    except Exception as error:
        return {"ok": False, "detail": str(error)}


def check_broker() -> dict[str, Any]:
    if settings.CXR_EMBEDDED_TASKS:
        return {"ok": True, "detail": "embedded: analyses run in the web process"}
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True, "queue": settings.CELERY_TASK_DEFAULT_QUEUE}
    except Exception as error:
        return {"ok": False, "detail": str(error)}


def check_model() -> dict[str, Any]:
    try:
        card = active_model_card()
    except Exception as error:
        return {"ok": False, "detail": str(error)}
    return {
        "ok": True,
        "name": card.name,
        "version": card.version,
        "trained": card.trained,
        "weights_sha256": card.weights_sha256,
    }
