"""The whole analysis path with a real Celery worker process, PostgreSQL and Redis."""

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from PIL import Image

from tests.conftest import study_finished

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WORKER_READY_SECONDS = 120
ANALYSIS_SECONDS = 240


def worker_database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def celery_worker(media_root: Path, tmp_path: Path):
    """A worker process on the test database, the test media folder and this run's queue."""
    log_path = tmp_path / "worker.log"
    env = {**os.environ, "DATABASE_URL": worker_database_url(), "CXR_MEDIA_ROOT": str(media_root)}
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=1"]
    command += ["--without-mingle", "--without-gossip", "--queues", settings.CELERY_TASK_DEFAULT_QUEUE]
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            command, cwd=settings.BACKEND_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + WORKER_READY_SECONDS
        while "ready." not in log_path.read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"The Celery worker did not start:\n{log_path.read_text()}")
            time.sleep(0.5)
        yield log_path
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()


def wait_until_finished(client, study_id: str, log_path: Path) -> dict:
    deadline = time.monotonic() + ANALYSIS_SECONDS
    while time.monotonic() < deadline:
        study = client.get(f"/api/studies/{study_id}/").json()
        if study_finished(study):
            return study
        time.sleep(1)
    pytest.fail(f"Study {study_id} did not finish in {ANALYSIS_SECONDS} s:\n{log_path.read_text()}")


def test_upload_is_analysed_by_the_worker_then_the_same_image_comes_from_cache(
    celery_worker, clinician, client_for, upload, radiograph_bytes, monkeypatch
):
    client = client_for(clinician)
    created = upload(client, radiograph_bytes)
    assert created.status_code == 202, created.content

    study = wait_until_finished(client, created.json()["id"], celery_worker)
    assert study["status"] == "done", study["message"]
    assert study["cached"] is False
    assert study["model"]["trained"] is False
    assert len(study["findings"]) == 14
    assert all(0.0 <= finding["probability"] <= 1.0 for finding in study["findings"])

    heatmap = client.get(study["findings"][0]["heatmap"])
    assert heatmap.status_code == 200
    assert Image.open(io.BytesIO(b"".join(heatmap.streaming_content))).size == (
        study["width"],
        study["height"],
    )
    assert (study["width"], study["height"]) == Image.open(io.BytesIO(radiograph_bytes)).size

    import studies.services

    def no_task(study_id):
        raise AssertionError("a cached image must not be queued for analysis")

    monkeypatch.setattr(studies.services, "enqueue_analysis", no_task)
    again = upload(client, radiograph_bytes)
    assert again.status_code == 201, again.content
    assert again.json()["status"] == "done" and again.json()["cached"] is True
    # Only the analysers beside the classifier are queued for it (the worker runs them), never the
    # classifier (no_task above).
    assert wait_until_finished(client, again.json()["id"], celery_worker)["screener"]["status"] == "done"
    cached = client.get(f"/api/studies/{again.json()['id']}/").json()
    assert [f["probability"] for f in cached["findings"]] == [f["probability"] for f in study["findings"]]
