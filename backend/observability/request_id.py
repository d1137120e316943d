"""One id per request, in every log line written for it, here and in the worker that analyses its upload.

nginx gives each request an id (X-Request-ID); without nginx the middleware makes one. The id lives in
a context variable for the request (or task), a logging filter puts it on every record, and the
Celery signals in celery_signals.py carry it in the task's message headers.
"""

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# What an id from the proxy may look like; anything else (or none) is replaced, so a client cannot
# write arbitrary text into the logs.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
NO_REQUEST = "-"

current_request_id: ContextVar[str] = ContextVar("current_request_id", default=NO_REQUEST)


def usable_request_id(candidate: str | None) -> str:
    if candidate and VALID_REQUEST_ID.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = usable_request_id(request.headers.get(REQUEST_ID_HEADER))
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record, "-" outside a request or task."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True
