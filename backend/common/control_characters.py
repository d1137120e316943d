"""Paths with control characters are refused before any view runs: no API resource is named with one.

A path parameter reaches queries as text, and PostgreSQL cannot hold NUL in text (a 500 where a 404
belongs); other control characters (escape, DEL, line breaks) only ever come from a hostile or broken
client. Every API path holding one, whatever the route and the method, answers the API's JSON 404.
"""

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from common.views import api_not_found

# C0 controls, DEL and C1 controls.
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class ControlCharacterPathMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith("/api/") and CONTROL_CHARACTER.search(request.path_info):
            return api_not_found(request, path=request.path_info.removeprefix("/api/"))
        return self.get_response(request)
