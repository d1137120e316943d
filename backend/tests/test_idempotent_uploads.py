"""Idempotent uploads: a retry sent with the same Idempotency-Key gets the first answer again and
stores nothing new, on PostgreSQL and Redis; concurrent retries against the web process as it runs
in service (gunicorn with two uvicorn workers) make one study.
"""

import io
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from loadtest.clinicians import multipart
from PIL import Image
from rest_framework_simplejwt.tokens import AccessToken

from studies.models import Study
from tests.conftest import CXR_DATA_DIR, NIH_DIR
from tests.live_web import LiveWeb, live_web
from tests.test_pacs_dicom_in import altered_sample, stow

RETRIES = 4


@pytest.fixture
def post_upload(django_capture_on_commit_callbacks):
    """POST files to /api/studies/ with an Idempotency-Key, running the on-commit enqueue."""

    def post(client, key: str | None, *files: tuple[str, bytes]):
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
        field = "image" if len(files) == 1 else "images"
        uploads = [SimpleUploadedFile(name, content) for name, content in files]
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/api/studies/", {field: uploads if len(uploads) > 1 else uploads[0]}, format="multipart",
                **headers,
            )  # fmt: skip

    return post


def stored_files(media_root: Path) -> list[Path]:
    return sorted(path for path in media_root.rglob("*") if path.is_file()) if media_root.exists() else []


@pytest.mark.django_db
def test_a_retry_with_the_same_key_gets_the_first_answer_and_stores_nothing_new(
    clinician, client_for, post_upload, radiograph_bytes, media_root
):
    client = client_for(clinician)
    key = str(uuid.uuid4())
    first = post_upload(client, key, ("chest.png", radiograph_bytes))
    assert first.status_code == 202, first.content
    files = stored_files(media_root)

    retry = post_upload(client, key, ("chest.png", radiograph_bytes))

    assert (retry.status_code, retry.json()) == (first.status_code, first.json())
    assert retry["Idempotent-Replayed"] == "true"
    assert Study.objects.filter(owner=clinician).count() == 1
    assert stored_files(media_root) == files


@pytest.mark.django_db
def test_the_same_key_with_other_files_is_refused_with_422_and_stores_nothing(
    clinician, client_for, post_upload, radiograph_bytes, radiograph_jpeg
):
    client = client_for(clinician)
    key = "upload-1"
    assert post_upload(client, key, ("chest.png", radiograph_bytes)).status_code == 202

    other = post_upload(client, key, ("chest.jpg", radiograph_jpeg))

    assert other.status_code == 422
    assert set(other.json()) == {"message", "extra"}
    assert other.json()["extra"] == {"header": "Idempotency-Key"}
    assert Study.objects.filter(owner=clinician).count() == 1


@pytest.mark.django_db
def test_keys_are_per_user(clinician, other_clinician, client_for, post_upload, radiograph_bytes):
    mine = post_upload(client_for(clinician), "shared-key", ("chest.png", radiograph_bytes))
    theirs = post_upload(client_for(other_clinician), "shared-key", ("chest.png", radiograph_bytes))

    assert mine.status_code == theirs.status_code == 202
    assert mine.json()["id"] != theirs.json()["id"]
    assert "Idempotent-Replayed" not in theirs


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 129, "has space", "naïve", "tab\tin"])
def test_a_key_that_is_empty_too_long_or_not_visible_ascii_is_refused_with_400(
    clinician, client_for, post_upload, radiograph_bytes, key
):
    refused = post_upload(client_for(clinician), key, ("chest.png", radiograph_bytes))

    assert refused.status_code == 400
    assert refused.json()["extra"] == {"header": "Idempotency-Key", "max_length": 128}
    assert not Study.objects.exists()


@pytest.mark.django_db
def test_a_key_of_the_longest_length_is_taken(clinician, client_for, post_upload, radiograph_bytes):
    key = "k" * 128
    first = post_upload(client_for(clinician), key, ("chest.png", radiograph_bytes))
    retry = post_upload(client_for(clinician), key, ("chest.png", radiograph_bytes))

    assert first.status_code == retry.status_code == 202
    assert retry.json() == first.json()


@pytest.mark.django_db
def test_a_key_is_new_again_once_it_expired(clinician, client_for, post_upload, radiograph_bytes, settings):
    client = client_for(clinician)
    first = post_upload(client, "expiring", ("chest.png", radiograph_bytes))
    # Kept no time at all: the first answer has expired by the time the retry comes.
    settings.CXR_IDEMPOTENCY_KEY_HOURS = 0

    later = post_upload(client, "expiring", ("chest.png", radiograph_bytes))

    assert later.status_code in (201, 202)
    assert later.json()["id"] != first.json()["id"]
    assert Study.objects.filter(owner=clinician).count() == 2


@pytest.mark.django_db
def test_a_refusal_is_answered_again_to_its_retry(clinician, client_for, post_upload):
    photo = io.BytesIO()
    Image.new("RGB", (512, 512), (200, 30, 30)).save(photo, format="PNG")
    client = client_for(clinician)
    first = post_upload(client, "refused-once", ("photo.png", photo.getvalue()))
    assert first.status_code == 422, first.content

    retry = post_upload(client, "refused-once", ("photo.png", photo.getvalue()))

    assert (retry.status_code, retry.json()) == (422, first.json())
    assert retry["Idempotent-Replayed"] == "true"
    assert not Study.objects.exists()


@pytest.mark.django_db
def test_a_stow_rs_retry_with_the_same_key_gets_the_first_answer_and_stores_one_study(
    clinician, client_for, django_capture_on_commit_callbacks
):
    client = client_for(clinician)
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(clinician)}", HTTP_IDEMPOTENCY_KEY="stow-1"
    )
    dicom = (CXR_DATA_DIR / "dicom" / "siim-sample.dcm").read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        first = stow(client, [("application/dicom", dicom)])
        # Another multipart boundary: the same content all the same.
        retry = stow(client, [("application/dicom", dicom)], boundary="another-boundary")

        other = stow(client, [("application/dicom", altered_sample())])

    assert first.status_code == 200, first.content
    assert (retry.status_code, retry.json()) == (200, first.json())
    assert retry["Content-Type"] == first["Content-Type"] == "application/dicom+json"
    assert retry["Idempotent-Replayed"] == "true"
    # Another instance under the same key is refused, not answered with the first one's answer.
    assert other.status_code == 422
    assert Study.objects.filter(owner=clinician).count() == 1


@pytest.fixture(scope="module")
def web(django_db_setup) -> Iterator[LiveWeb]:
    with live_web(workers=2) as server:
        yield server


def upload_over_http(web: LiveWeb, token: str, key: str, radiograph: bytes) -> tuple[int, bytes]:
    body, content_type = multipart("chest.png", radiograph)
    request = urllib.request.Request(
        web.url("/api/studies/"),
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": content_type,
            "Idempotency-Key": key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_the_same_key_store_one_study(web, clinician):
    radiograph = (NIH_DIR / "00030012_000.png").read_bytes()
    token = str(AccessToken.for_user(clinician))
    start = threading.Barrier(RETRIES)
    answers: list[tuple[int, bytes]] = []

    def retry() -> None:
        start.wait()
        answers.append(upload_over_http(web, token, "sent-four-times-at-once", radiograph))

    threads = [threading.Thread(target=retry) for _ in range(RETRIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert len(answers) == RETRIES
    assert {status for status, _ in answers} == {202}, answers
    assert len({body for _, body in answers}) == 1
    assert Study.objects.filter(owner=clinician).count() == 1
