"""The errors that mean a dependency is down (database, cache, broker), not that a request is wrong.

The API answers them with 503 and Retry-After in the usual error shape (common.exception_handler),
never with a server error page: the client can try again, and nothing half-done is kept.
"""

from typing import Any

import django.db
import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django_redis.exceptions import ConnectionInterrupted

DATABASE_ERRORS: tuple[type[Exception], ...] = (django.db.OperationalError, django.db.InterfaceError)
# Celery raises kombu's OperationalError once its publish retries are spent; Redis's own errors
# reach callers that talk to it directly.
BROKER_ERRORS: tuple[type[Exception], ...] = (
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)
CACHE_ERRORS: tuple[type[Exception], ...] = (
    ConnectionInterrupted,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


def unavailable_dependency(error: BaseException) -> str | None:
    """Which dependency ``error`` says is down, or None if it says something else."""
    if isinstance(error, DATABASE_ERRORS):
        return "database"
    if isinstance(error, BROKER_ERRORS + CACHE_ERRORS):
        return "cache or broker"
    return None


def unavailable_body(dependency: str) -> dict[str, Any]:
    return {
        "message": f"The service is briefly unavailable (its {dependency} did not answer). "
        "Nothing was changed; try again in a minute.",
        "extra": {"dependency": dependency},
    }


def retry_after_headers() -> dict[str, str]:
    return {"Retry-After": str(settings.CXR_UNAVAILABLE_RETRY_AFTER_SECONDS)}
