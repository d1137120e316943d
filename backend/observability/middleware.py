import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from observability.metrics import metrics

KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class MetricsMiddleware:
    """Counts and times every request by its URL pattern (not its path, which holds study ids)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in KNOWN_METHODS else "OTHER"
        match = request.resolver_match
        route = match.route if match is not None else "unmatched"
        metrics().http_requests.labels(method, route, str(response.status_code)).inc()
        metrics().http_latency.labels(method, route).observe(time.perf_counter() - started)
        return response
