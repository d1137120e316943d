"""Health, the OpenAPI schema and its docs, and the web app's entry page."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_health_reports_each_dependency_and_an_untrained_model():
    response = APIClient().get("/api/health/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True, "engine": "postgresql"}
    assert body["checks"]["cache"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True
    assert body["checks"]["model"]["trained"] is False


def test_health_is_503_when_the_broker_is_unreachable(settings):
    settings.CXR_EMBEDDED_TASKS = False
    from config.celery_app import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = APIClient().get("/api/health/")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["broker"]["ok"] is False


def test_openapi_schema_documents_the_rest_contract():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in [
        "/api/auth/token/",
        "/api/auth/token/refresh/",
        "/api/health/",
        "/api/studies/",
        "/api/studies/{study_id}/",
        "/api/studies/{study_id}/heatmaps/{label}/",
        "/api/users/",
        "/api/users/{id}/password/",
        "/api/audit/",
        "/api/model/",
        "/api/model/agreement/",
        "/api/studies/{study_id}/feedback/",
        "/api/studies/{study_id}/feedback/{label}/",
        "/api/studies/{study_id}/report/",
    ]:
        assert path in schema["paths"], path


def test_api_docs_page_is_served_without_a_cdn():
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    assert b"cdn.jsdelivr" not in response.content


def test_web_app_routes_get_the_spa_entry_page(client, settings, tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>CXR</title>")
    settings.FRONTEND_DIST_DIR = tmp_path
    for path in ["/", "/studies/123"]:
        response = client.get(path)
        assert response.status_code == 200
        assert b"<title>CXR</title>" in b"".join(response.streaming_content)
