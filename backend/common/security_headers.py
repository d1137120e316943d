"""A Content-Security-Policy on every response, the browser's last line against injected script.

The built web app needs nothing but its own origin: module scripts and style sheets from /static/,
API calls to /api/, radiographs and heatmaps shown from blob: URLs, and a data: favicon. Django's
admin and the API docs page carry a few inline styles of their own, so there (only) inline style is
allowed; inline script is allowed nowhere. Frame denial (X-Frame-Options and frame-ancestors),
Referrer-Policy and nosniff come from Django's own middleware and settings.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Pages that are not the web app and carry inline style (not script) of their own.
INLINE_STYLE_PREFIXES = ("/admin/", "/api/docs/")


def content_security_policy(path: str) -> str:
    policy = dict(POLICY)
    if path.startswith(INLINE_STYLE_PREFIXES):
        policy["style-src"] = "'self' 'unsafe-inline'"
    return "; ".join(f"{directive} {sources}" for directive, sources in policy.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", content_security_policy(request.path))
        return response
