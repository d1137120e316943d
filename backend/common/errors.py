"""The one domain error type: services raise it, the API exception handler renders it."""

from typing import Any


class DomainError(Exception):
    """A failure the caller can act on, with the HTTP status that describes it."""

    status_code = 400

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.extra = extra or {}
        # Response headers that belong to the error, such as Retry-After on a 429.
        self.headers = headers or {}


class NotFoundError(DomainError):
    status_code = 404
