"""The OpenAPI schema documents every error status an operation can answer, in the one error shape.

drf-spectacular documents the successes it sees in a view; the errors come from elsewhere (the
authentication, the permissions, the throttles, the parsers, the exception handler), so this
schema class adds them to each operation from what the operation is: a generated client then
knows every answer it can get, and schemathesis checks the service against that (test_api_fuzz).
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework_simplejwt.views import TokenViewBase

from common.serializers import ErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "The request is not valid (the message names the first bad field).",
    "401": "No token, or a token that is invalid, expired or revoked (or, signing in, wrong credentials).",
    "403": "Signed in, but not allowed (an admin's operation).",
    "404": "Not found, or not yours.",
    "415": "Not a PNG, JPEG or DICOM file, content unlike its name, or an unsupported body type.",
    "429": "Throttled: too many requests or failed sign-ins, or too many studies waiting. See Retry-After.",
    "503": "A dependency (database, cache, broker) did not answer; nothing was changed. See Retry-After.",
}
BODY_METHODS = ("POST", "PUT", "PATCH")


class ErrorDocumentingAutoSchema(AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for status in sorted(self.error_statuses(operation)):
            responses.setdefault(status, self.error_response(status))
        return operation

    def error_statuses(self, operation: dict[str, Any]) -> set[str]:
        parameters = operation.get("parameters", [])
        query = {parameter["name"] for parameter in parameters if parameter["in"] == "query"}
        statuses = {"503"}
        if self.method in BODY_METHODS or query:
            statuses.add("400")
        if self.method in BODY_METHODS:
            statuses.add("415")
        permissions = self.view.get_permissions()
        if isinstance(self.view, TokenViewBase) or not all(isinstance(p, AllowAny) for p in permissions):
            statuses.add("401")
        if any(not isinstance(p, (IsAuthenticated, AllowAny)) for p in permissions):
            statuses.add("403")
        if any(parameter["in"] == "path" for parameter in parameters) or "page" in query:
            statuses.add("404")
        if self.view.get_throttles():
            statuses.add("429")
        # 413 and 422 belong to uploads: their views declare them (studies.views).
        return statuses

    def error_response(self, status: str) -> dict[str, Any]:
        response = self._get_response_for_code(ErrorSerializer, status)
        response["description"] = ERROR_DESCRIPTIONS[status]
        return response
