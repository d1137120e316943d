import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST

from observability.metrics import render_web_metrics


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics for a scraper holding CXR_METRICS_TOKEN as a bearer token.

    Outside the OpenAPI schema: it is for the monitoring system, not for API clients (nginx refuses
    it from outside; Prometheus scrapes the web processes directly).
    """
    token = settings.CXR_METRICS_TOKEN
    if not token:
        return JsonResponse(
            {"message": "Metrics are switched off: set CXR_METRICS_TOKEN to enable them.", "extra": {}},
            status=404,
        )
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not secrets.compare_digest(given.encode(), token.encode()):
        return JsonResponse(
            {"message": "Metrics need the bearer token set in CXR_METRICS_TOKEN.", "extra": {}},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return HttpResponse(render_web_metrics(), content_type=CONTENT_TYPE_LATEST)
