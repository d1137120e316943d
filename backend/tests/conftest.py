"""Shared fixtures: users with real JWTs, real radiographs, media in a temporary folder.

The suite runs on the PostgreSQL and Redis that `make test` points it at (DATABASE_URL, REDIS_URL);
without them it falls back to SQLite and in-process tasks, and the worker tests skip.
"""

import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from tests.factories import AdminFactory, UserFactory

CXR_DATA_DIR = Path(os.environ.get("CXR_DATA_DIR", settings.REPO_DIR.parent / "shared" / "data" / "cxr"))
NIH_DIR = CXR_DATA_DIR / "nih"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def empty_cache():
    clear_cache()
    yield
    clear_cache()


def clear_cache() -> None:
    if hasattr(cache, "delete_pattern"):
        # Only this run's keys (the key prefix is per run); the Redis database may hold others.
        cache.delete_pattern("*")
    else:
        cache.clear()


@pytest.fixture
def clinician(db) -> User:
    return UserFactory()


@pytest.fixture
def other_clinician(db) -> User:
    return UserFactory()


@pytest.fixture
def admin_user(db) -> User:
    return AdminFactory()


@pytest.fixture
def client_for() -> Callable[[User], APIClient]:
    """An API client that sends a real access token of the given user."""

    def make(user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        return client

    return make


@pytest.fixture
def radiograph_path() -> Path:
    path = NIH_DIR / "00030012_000.png"
    if not path.is_file():
        pytest.fail(f"Real radiographs are missing: expected {path} (see ../shared/data/cxr/README.md)")
    return path


@pytest.fixture
def radiograph_bytes(radiograph_path) -> bytes:
    return radiograph_path.read_bytes()


@pytest.fixture
def radiograph_jpeg(radiograph_path) -> bytes:
    buffer = io.BytesIO()
    Image.open(radiograph_path).convert("L").save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def pytest_configure(config) -> None:
    if not settings.REDIS_URL or settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.exit(
            "The backend tests run on real PostgreSQL and Redis: run them with `make test`, which points "
            "DATABASE_URL and REDIS_URL at 127.0.0.1:5432 and 127.0.0.1:6379.",
            returncode=1,
        )


def study_finished(study: dict) -> bool:
    """Whether a study (its API answer) has finished: its findings, and the analysers beside the
    classifier, which run after them on their own queue and worker."""
    if study["status"] == "failed":
        return True
    analysers = [study.get(kind) for kind in ("screener", "segmentation")]
    return study["status"] == "done" and all(
        run is None or run["status"] in ("done", "failed") for run in analysers
    )


def queued_task_count(queue: str | None = None) -> int:
    """Messages waiting in one of this run's Celery queues (Redis keeps a queue as a list); the
    study queue unless ``queue`` names another (settings.CXR_ANALYSER_QUEUE)."""
    from config.celery_app import app

    with app.connection_for_write() as connection:
        return connection.default_channel.client.llen(queue or settings.CELERY_TASK_DEFAULT_QUEUE)


@pytest.fixture(scope="session", autouse=True)
def purge_test_queue():
    yield
    from config.celery_app import app

    with app.connection_for_write() as connection:
        client = connection.default_channel.client
        client.delete(settings.CELERY_TASK_DEFAULT_QUEUE, settings.CXR_ANALYSER_QUEUE)


@pytest.fixture
def upload(django_capture_on_commit_callbacks) -> Callable[..., object]:
    """POST a file to /api/studies/ as a browser would, running the on-commit enqueue."""

    def post(client: APIClient, content: bytes, name: str = "chest.png"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/api/studies/", {"image": SimpleUploadedFile(name, content)}, format="multipart"
            )

    return post


@pytest.fixture
def upload_images(django_capture_on_commit_callbacks) -> Callable[..., object]:
    """POST several files as one study (the images field repeated), running the on-commit enqueue."""

    def post(client: APIClient, files: list[tuple[str, bytes]]):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/api/studies/",
                {"images": [SimpleUploadedFile(name, content) for name, content in files]},
                format="multipart",
            )

    return post


def analyse_here(study_id, *, claimant: str = "test") -> None:
    """What the findings worker and then the analysers' worker do for a study, in this process."""
    from studies.analyser_runs import analyser_runs_execute
    from studies.analysis import studies_analyze

    analyser_runs_execute(studies_analyze(study_id=study_id, claimant=claimant))


@pytest.fixture
def analysed_study(clinician, client_for, upload, radiograph_bytes):
    """A clinician's study, uploaded through the API and analysed by the real engine in this process:
    its findings, then its analysers."""
    from studies.models import Study

    response = upload(client_for(clinician), radiograph_bytes)
    assert response.status_code == 202, response.content
    analyse_here(response.json()["id"])
    return Study.objects.get(pk=response.json()["id"])


@pytest.fixture(scope="session")
def site_weights(tmp_path_factory) -> tuple[Path, Path]:
    """Two trained weights directories: the seeded network, and the same with one output's bias moved
    (other weights, so other hashes and other probabilities)."""
    from ml.classifier.engine import InferenceEngine

    root = tmp_path_factory.mktemp("site-weights")
    engine = InferenceEngine.load(None, backend="keras")
    engine.save(root / "current", trained=True, name="site-densenet", version="1.0.0")
    head = next(layer for layer in reversed(engine.model.layers) if len(layer.get_weights()) == 2)
    kernel, bias = head.get_weights()
    head.set_weights([kernel, bias + 0.5])
    engine.save(root / "candidate", trained=True, name="site-densenet", version="2.0.0")
    return root / "current", root / "candidate"
