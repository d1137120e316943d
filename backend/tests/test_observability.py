"""What operators watch: liveness apart from readiness, the metrics endpoint and its token, request ids
and JSON log lines, and the Grafana dashboard's queries. The topology test checks the same through
nginx, gunicorn and a worker."""

import json
import logging
import re
import sys

import pytest
from celery import shared_task
from rest_framework.test import APIClient

from config.settings import BACKEND_DIR
from observability.celery_signals import REQUEST_ID_TASK_HEADER, attach_request_id
from observability.json_logging import JsonFormatter
from observability.metrics import metrics
from observability.request_id import RequestIdFilter, current_request_id

pytestmark = pytest.mark.django_db


@shared_task(name="tests.current_request_id")
def request_id_seen_by_task() -> str:
    return current_request_id.get()


DASHBOARD = BACKEND_DIR / "observability" / "grafana-dashboard.json"
TOKEN = "metrics-test-token"


def test_liveness_answers_while_a_dependency_is_down_and_readiness_does_not(settings):
    settings.CXR_EMBEDDED_TASKS = False
    from config.celery_app import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        live, ready = APIClient().get("/api/health/live/"), APIClient().get("/api/health/")
    finally:
        app.conf.broker_url = original
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    assert ready.status_code == 503


def test_metrics_are_off_without_a_token_and_need_it_when_set(settings):
    settings.CXR_METRICS_TOKEN = ""
    off = APIClient().get("/api/metrics/")
    assert off.status_code == 404 and "CXR_METRICS_TOKEN" in off.json()["message"]
    settings.CXR_METRICS_TOKEN = TOKEN
    wrong = APIClient().get("/api/metrics/", HTTP_AUTHORIZATION="Bearer not-the-token")
    assert wrong.status_code == 401 and wrong.json()["extra"] == {}


def test_metrics_count_requests_by_route_and_studies_by_status(settings, analysed_study):
    settings.CXR_METRICS_TOKEN = TOKEN
    client = APIClient()
    client.get("/api/health/live/")
    scraped = client.get("/api/metrics/", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert scraped.status_code == 200 and scraped["Content-Type"].startswith("text/plain")
    text = scraped.content.decode()
    assert re.search(
        r'cxr_http_requests_total\{method="GET",route="api/health/live/",status="200"\} \d', text
    )
    assert 'cxr_studies{status="done"} 1.0' in text and 'cxr_studies{status="queued"} 0.0' in text
    # Every kind of background work is counted: the study, then its analysers beside the classifier.
    assert 'cxr_jobs{kind="study",status="done"} 1.0' in text
    assert re.search(r'cxr_jobs\{kind="analyser_run",status="(queued|done)"\} [1-9]', text)
    assert 'cxr_jobs{kind="explanation",status="failed"} 0.0' in text
    for queue in (settings.CELERY_TASK_DEFAULT_QUEUE, settings.CXR_ANALYSER_QUEUE):
        assert f'cxr_queue_depth{{queue="{queue}"}}' in text
    # The analysis in this process loaded the model once.
    assert re.search(r"cxr_model_load_seconds_count [1-9]", text)


def test_request_id_from_the_proxy_is_kept_and_an_unusable_one_is_replaced():
    client = APIClient()
    kept = client.get("/api/health/live/", HTTP_X_REQUEST_ID="0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    assert kept["X-Request-ID"] == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    for unusable in ("short", "has spaces in it", "x" * 65):
        replaced = client.get("/api/health/live/", HTTP_X_REQUEST_ID=unusable)
        assert re.fullmatch(r"[0-9a-f]{32}", replaced["X-Request-ID"]), unusable


def test_json_log_lines_carry_the_request_id_and_the_exception():
    record = logging.LogRecord("studies", logging.ERROR, __file__, 1, "Analysis of %s failed", ("s1",), None)
    token = current_request_id.set("req-0123456789")
    try:
        RequestIdFilter().filter(record)
    finally:
        current_request_id.reset(token)
    try:
        raise ValueError("broken image")
    except ValueError:
        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-0123456789" and line["message"] == "Analysis of s1 failed"
    assert line["level"] == "ERROR" and "ValueError: broken image" in line["exception"]


def test_grafana_dashboard_reads_only_metrics_the_service_exports(settings):
    metrics()  # every metric of web and worker processes, registered in this process
    settings.CXR_METRICS_TOKEN = TOKEN
    exported = APIClient().get("/api/metrics/", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    series = set(re.findall(r"^(cxr_\w+?)(?:\{| )", exported, re.MULTILINE))
    series |= set(re.findall(r"^# TYPE (cxr_\w+) ", exported, re.MULTILINE))
    dashboard = json.loads(DASHBOARD.read_text())
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bcxr_\w+", target["expr"])
    }
    histogram_series = {f"{name}_{suffix}" for name in series for suffix in ("bucket", "count", "sum")}
    assert queried and queried <= series | histogram_series, queried - series - histogram_series
    panel_titles = " ".join(panel["title"] for panel in dashboard["panels"]).lower()
    for subject in ("requests", "latency", "errors", "studies", "queue", "analysis time", "model load"):
        assert subject in panel_titles, subject


def test_request_id_goes_into_task_headers_and_comes_back_out_in_the_task():
    token = current_request_id.set("upload-request-0001")
    try:
        headers: dict[str, str] = {}
        attach_request_id(headers=headers)
        assert headers == {REQUEST_ID_TASK_HEADER: "upload-request-0001"}
        # Run in this process, as a worker runs a message with that header.
        assert request_id_seen_by_task.apply(headers=headers).get() == "upload-request-0001"
        assert current_request_id.get() == "upload-request-0001"
    finally:
        current_request_id.reset(token)
    assert request_id_seen_by_task.apply(headers={REQUEST_ID_TASK_HEADER: "worker-side-0002"}).get() == (
        "worker-side-0002"
    )
