"""Renders every API error in one shape: {"message": ..., "extra": {...}}."""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.dependencies import retry_after_headers, unavailable_body, unavailable_dependency
from common.errors import DomainError


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(
            {"message": exc.message, "extra": exc.extra}, status=exc.status_code, headers=exc.headers
        )
    dependency = unavailable_dependency(exc)
    if dependency is not None:
        return Response(unavailable_body(dependency), status=503, headers=retry_after_headers())
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        # An unexpected error: let Django log it and answer 500.
        return None
    response.data = {"message": summarise(exc, response.data), "extra": extra_of(exc, response.data)}
    return response


def summarise(exc: Exception, data: Any) -> str:
    """One sentence for a person: validation errors name the first bad field."""
    if isinstance(exc, exceptions.ValidationError) and isinstance(data, dict) and data:
        field, problems = next(iter(data.items()))
        problem = problems[0] if isinstance(problems, list) and problems else problems
        if field == "non_field_errors":
            return str(problem)
        return f"{field}: {problem}"
    if isinstance(exc, exceptions.ValidationError):
        return "The request is not valid."
    detail = data.get("detail") if isinstance(data, dict) else None
    return str(detail) if detail else str(exc)


def extra_of(exc: Exception, data: Any) -> dict[str, Any]:
    if isinstance(exc, exceptions.ValidationError):
        return {"fields": data} if isinstance(data, dict) else {"errors": data}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        return {"retry_after_seconds": int(exc.wait)}
    if isinstance(data, dict):
        # Simple JWT adds a machine-readable code and the token checks that failed; keep them.
        return {key: value for key, value in data.items() if key != "detail"}
    return {}
