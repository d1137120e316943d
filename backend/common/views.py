import sys

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from common.dependencies import retry_after_headers, unavailable_body, unavailable_dependency


def spa_index(request: HttpRequest) -> HttpResponse:
    """The web app's entry page, for every path the SPA routes itself."""
    index = settings.FRONTEND_DIST_DIR / "index.html"
    if not index.is_file():
        return HttpResponse(
            "The web app is not built: run `make run` (or `npm run build` in frontend/).",
            status=503,
            content_type="text/plain",
        )
    response = FileResponse(index.open("rb"), content_type="text/html")
    response["Cache-Control"] = "no-cache"
    return response


# Exempt from CSRF: it changes nothing, and a POST or PUT to a path that matches no endpoint must get
# this JSON 404, not the CSRF middleware's HTML 403.
@csrf_exempt
def api_not_found(request: HttpRequest, path: str) -> JsonResponse:
    return JsonResponse({"message": f"No API endpoint at /api/{path}.", "extra": {}}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    """Django's last resort (an error outside the API's views, e.g. in middleware): JSON, never HTML.

    A dependency that went down answers 503 as the API's views do; anything else is a 500.
    """
    error = sys.exc_info()[1]
    dependency = unavailable_dependency(error) if error is not None else None
    if dependency is not None:
        return JsonResponse(unavailable_body(dependency), status=503, headers=retry_after_headers())
    return JsonResponse({"message": "An unexpected error occurred on the server.", "extra": {}}, status=500)
