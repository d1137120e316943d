"""The web app's static files as Django serves them (WhiteNoise), cached as nginx caches them.

Vite names each built asset after a hash of its content (``assets/index-BXk3vB2q.js``): such a
file never changes, so it is cached for a year, immutable. WhiteNoise knows hashed names only from
Django's manifest storage, which the web app's build does not use, and gave them 60 seconds; its
other files (no hash in their name) keep WhiteNoise's short max-age.
"""

import re
from wsgiref.headers import Headers

from whitenoise.middleware import WhiteNoiseMiddleware

VITE_HASHED_ASSET = re.compile(r"^assets/[^/]+-[A-Za-z0-9_-]{8,}\.[A-Za-z0-9]+$")
ONE_YEAR_SECONDS = 365 * 24 * 60 * 60


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    def immutable_file_test(self, path: str, url: str) -> bool:
        return url.startswith(self.static_prefix) and bool(
            VITE_HASHED_ASSET.match(url[len(self.static_prefix) :])
        )

    def add_cache_headers(self, headers: Headers, path: str, url: str) -> None:
        if self.immutable_file_test(path, url):
            # nginx's header, word for word (nginx/templates/default.conf.template).
            headers["Cache-Control"] = f"public, max-age={ONE_YEAR_SECONDS}, immutable"
        else:
            super().add_cache_headers(headers, path, url)
