from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse


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


def api_not_found(request: HttpRequest, path: str) -> JsonResponse:
    return JsonResponse({"message": f"No API endpoint at /api/{path}.", "extra": {}}, status=404)
