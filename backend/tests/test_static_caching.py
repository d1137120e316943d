"""Django's static files (make run, without nginx): Vite's hashed assets cached for a year, immutable,
as nginx serves them; other static files briefly; the web app's index revalidated every time."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from common.static_files import StaticFilesMiddleware


@pytest.fixture
def static_root(settings, tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "index-BXk3vB2q.js").write_text("console.log(1);")
    (tmp_path / "assets" / "plain.js").write_text("console.log(2);")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    settings.STATIC_ROOT = tmp_path
    settings.WHITENOISE_AUTOREFRESH = False
    settings.WHITENOISE_USE_FINDERS = False
    return tmp_path


def cache_control(path: str) -> str:
    middleware = StaticFilesMiddleware(get_response=lambda request: HttpResponse(status=404))
    response = middleware(RequestFactory().get(path))
    assert response.status_code == 200, path
    return response["Cache-Control"]


def test_hashed_assets_are_cached_for_a_year_and_other_static_files_briefly(static_root):
    assert cache_control("/static/assets/index-BXk3vB2q.js") == "public, max-age=31536000, immutable"
    assert cache_control("/static/assets/plain.js") == "max-age=60, public"
    assert cache_control("/static/favicon.svg") == "max-age=60, public"


@pytest.mark.django_db
def test_the_web_apps_index_is_revalidated_every_time(settings, tmp_path, client):
    (tmp_path / "index.html").write_text("<!doctype html><title>CXR</title>")
    settings.FRONTEND_DIST_DIR = tmp_path
    response = client.get("/studies/0b7c6a5e-0000-4000-8000-000000000000")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-cache"
