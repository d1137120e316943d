"""Request bodies limited before Django reads them: the ASGI layer in front of the Django application.

Under ASGI, Django's handler reads the whole body (to memory, then a temporary file) before any
middleware, authentication or view runs, so a limit checked there comes too late: a request that
declares 10 GiB would be read to the end first. This layer, which sees each request as it arrives:

- answers 413 at once to a body whose declared Content-Length is over its route's limit;
- cuts a streamed (chunked) body at the limit: Django is told the client went away, and the client
  gets 413;
- answers 401 to an upload (POST /api/studies/, STOW-RS) without a valid access token before any of
  its body is read.

The upload routes take their own limits (several files of CXR_MAX_UPLOAD_BYTES each); every other
request takes DATA_UPLOAD_MAX_MEMORY_SIZE. Answers from here close the connection, so a body left
unread is never taken for the next request.
"""

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.urls import Resolver404, resolve
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from common.dependencies import retry_after_headers, unavailable_body, unavailable_dependency
from monitoring.labelled_sets import acceptance_body_limit
from pacs.stow import stow_body_limit
from studies.upload_limits import study_upload_body_limit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# POST routes that take uploads, by URL name: their body limit, and a token checked before the body.
UPLOAD_ROUTES: dict[str, Callable[[], int]] = {
    "study-list": study_upload_body_limit,
    "dicomweb-stow": stow_body_limit,
    "acceptance-run-list": acceptance_body_limit,
}
MEBIBYTE = 1024 * 1024


class RequestBodyLimit:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload_limit = upload_route_limit(scope)
        limit = upload_limit if upload_limit is not None else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            await send_error(send, 413, too_large_body(limit, declared))
            return
        if upload_limit is not None:
            refusal = await upload_token_refusal(scope)
            if refusal is not None:
                await send_error(send, *refusal)
                return
        limited = LimitedReceive(receive, limit)
        started = ResponseStarted(send)
        await self.app(scope, limited, started)
        if limited.exceeded and not started.started:
            await send_error(send, 413, too_large_body(limit, None))


def upload_route_limit(scope: Scope) -> int | None:
    """The body limit of an upload route, or None for any other request."""
    if scope["method"] != "POST":
        return None
    root = scope.get("root_path", "")
    path = scope["path"].removeprefix(root) if root else scope["path"]
    try:
        name = resolve(path).url_name
    except Resolver404:
        return None
    limit = UPLOAD_ROUTES.get(name or "")
    return limit() if limit is not None else None


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value
    return None


def declared_length(scope: Scope) -> int | None:
    value = header(scope, b"content-length")
    # The server has already refused a malformed length; a chunked body declares none.
    return int(value) if value is not None and value.strip().isdigit() else None


def too_large_body(limit: int, declared: int | None) -> dict[str, Any]:
    extra: dict[str, Any] = {"limit_bytes": limit}
    if declared is not None:
        extra["size_bytes"] = declared
    return {
        "message": f"The request body is larger than the {limit / MEBIBYTE:.0f} MiB this route takes.",
        "extra": extra,
    }


async def upload_token_refusal(scope: Scope) -> tuple[int, dict[str, Any], dict[str, str]] | None:
    """401 (or 503 while the database is down) for an upload whose token does not open the API."""
    try:
        await sync_to_async(check_access_token, thread_sensitive=False)(header(scope, b"authorization"))
    except (AuthenticationFailed, InvalidToken) as error:
        detail = error.detail if isinstance(error.detail, dict) else {"detail": error.detail}
        message = str(detail.get("detail", "The access token is not valid."))
        extra = {key: value for key, value in detail.items() if key != "detail"}
        return 401, {"message": message, "extra": extra}, {"WWW-Authenticate": 'Bearer realm="api"'}
    except Exception as error:
        dependency = unavailable_dependency(error)
        if dependency is None:
            raise
        return 503, unavailable_body(dependency), retry_after_headers()
    return None


def check_access_token(authorization: bytes | None) -> None:
    """What the API's authentication checks (signature, expiry, an active user, the password hash)."""
    authentication = JWTAuthentication()
    raw = authentication.get_raw_token(authorization) if authorization else None
    if raw is None:
        raise AuthenticationFailed("Authentication credentials were not provided.")
    try:
        authentication.get_user(authentication.get_validated_token(raw))
    finally:
        # This thread is not a request's: its database connection would otherwise stay open.
        connections.close_all()


class LimitedReceive:
    """Passes the body on up to ``limit`` bytes; past it, tells the application the client left."""

    def __init__(self, receive: Receive, limit: int):
        self.receive = receive
        self.limit = limit
        self.received = 0
        self.exceeded = False

    async def __call__(self) -> Message:
        if self.exceeded:
            return {"type": "http.disconnect"}
        message = await self.receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                # Django drops a request whose client disconnected while it read the body, and
                # answers nothing: the layer answers 413, and the rest of the body is never read.
                self.exceeded = True
                return {"type": "http.disconnect"}
        return message


class ResponseStarted:
    def __init__(self, send: Send):
        self.send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


async def send_error(
    send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    """An answer in the API's error shape that closes the connection (the body may be unread)."""
    payload = json.dumps(body).encode()
    response_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"connection", b"close"),
        (b"x-content-type-options", b"nosniff"),
        *((name.lower().encode(), value.encode()) for name, value in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": response_headers})
    await send({"type": "http.response.body", "body": payload})
