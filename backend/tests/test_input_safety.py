"""Input safety: every real chest radiograph in; everything else out with a reason and the right
status, leaving no study row and no file behind; per-user limits."""

import io
import zipfile

import numpy as np
import pydicom
import pytest
import skimage.data
from PIL import Image

from studies.models import Study
from tests.conftest import CXR_DATA_DIR
from tests.test_auth import assert_error_shape
from tests.test_studies_api import stored_files

pytestmark = pytest.mark.django_db

DICOM_DIR = CXR_DATA_DIR / "dicom"


def png_bytes(pixels: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode=mode).save(buffer, format="PNG")
    return buffer.getvalue()


def dicom_with(**tags: object) -> bytes:
    dataset = pydicom.dcmread(DICOM_DIR / "siim-sample.dcm")
    for keyword, value in tags.items():
        setattr(dataset, keyword, value)
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    return buffer.getvalue()


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("chest.png", b"not really")
    return buffer.getvalue()


def huge_png() -> bytes:
    """A valid PNG of 8000 x 8000 black pixels: 64 megapixels in about 60 kB."""
    return png_bytes(np.zeros((8000, 8000), dtype=np.uint8))


@pytest.fixture
def radiograph_grey(radiograph_path) -> np.ndarray:
    return np.asarray(Image.open(radiograph_path).convert("L"))


@pytest.fixture
def refused(clinician, client_for, upload):
    """Upload a file, expect a refusal with this status, and check nothing was kept."""

    def check(content: bytes, name: str, status: int) -> dict:
        response = upload(client_for(clinician), content, name)
        assert_error_shape(response, status)
        assert not Study.objects.exists()
        assert stored_files() == []
        return response.json()

    return check


@pytest.mark.parametrize(
    ("make_content", "name", "status"),
    [
        (lambda grey, png: b"", "chest.png", 400),
        (lambda grey, png: png[: len(png) // 3], "chest.png", 400),
        (lambda grey, png: jpeg_of(grey)[:5000], "chest.jpg", 400),
        (lambda grey, png: b"%PDF-1.7\n1 0 obj << >> endobj\n", "report.pdf", 415),
        (lambda grey, png: b"Patient doing well, discharge tomorrow.\n", "notes.txt", 415),
        # A zip is a CT series' container now: one holding anything but DICOM slices is unreadable.
        (lambda grey, png: zip_bytes(), "images.zip", 400),
        (lambda grey, png: jpeg_of(grey), "chest.png", 415),
        (lambda grey, png: png, "chest.txt", 415),
        (lambda grey, png: huge_png(), "huge.png", 413),
    ],
    ids=[
        "empty",
        "truncated-png",
        "truncated-jpeg",
        "pdf",
        "text",
        "zip",
        "jpeg-named-png",
        "png-named-txt",
        "decompression-bomb",
    ],
)
def test_unreadable_or_mislabelled_file_is_refused_with_its_status(
    refused, radiograph_grey, radiograph_bytes, make_content, name, status
):
    refused(make_content(radiograph_grey, radiograph_bytes), name, status)


def jpeg_of(grey: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("make_content", "name", "reason"),
    [
        (
            lambda grey: png_bytes(np.asarray(Image.fromarray(grey).resize((200, 200)))),
            "small.png",
            "too small",
        ),
        (lambda grey: png_bytes(skimage.data.astronaut()), "holiday.png", "colour photograph"),
        (lambda grey: png_bytes(np.rot90(grey).copy()), "chest.png", "rotated"),
        (lambda grey: png_bytes(skimage.data.camera()), "camera.png", "not a chest radiograph"),
        (lambda grey: dicom_with(Modality="CT"), "ct.dcm", "not a radiograph"),
        (lambda grey: dicom_with(BodyPartExamined="KNEE"), "knee.dcm", "not a chest radiograph"),
        (lambda grey: dicom_with(NumberOfFrames=3), "cine.dcm", "multi-frame image"),
        (lambda grey: dicom_with(ViewPosition="LL"), "lateral.dcm", "lateral view"),
    ],
    ids=["too-small", "colour-photo", "rotated", "photograph", "ct", "knee", "multi-frame", "lateral"],
)
def test_image_that_is_not_a_frontal_chest_radiograph_is_422_with_its_reason(
    refused, radiograph_grey, make_content, name, reason
):
    body = refused(make_content(radiograph_grey), name, 422)
    assert body["extra"]["reason"] == reason


def test_dicom_refusal_names_the_tag(refused):
    body = refused(dicom_with(Modality="MR"), "mr.dcm", 422)
    assert body["extra"]["tag"] == "(0008,0060) Modality"
    assert "(0008,0060)" in body["message"]


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_radiograph_saved_with_equal_colour_channels_is_accepted(
    clinician, client_for, upload, radiograph_grey, mode
):
    channels = [radiograph_grey] * 3 + ([np.full_like(radiograph_grey, 255)] if mode == "RGBA" else [])
    response = upload(client_for(clinician), png_bytes(np.stack(channels, axis=-1), mode), "chest.png")
    assert response.status_code == 202, response.content


@pytest.mark.parametrize("path", sorted((CXR_DATA_DIR / "nih").glob("*.png")), ids=lambda path: path.name)
def test_every_real_nih_radiograph_is_accepted(clinician, client_for, upload, path):
    response = upload(client_for(clinician), path.read_bytes(), path.name)
    assert response.status_code == 202, response.content


def test_dicom_upload_shows_its_metadata(clinician, client_for, upload):
    client = client_for(clinician)
    response = upload(client, (DICOM_DIR / "siim-sample.dcm").read_bytes(), "siim-sample.dcm")
    assert response.status_code == 202, response.content
    detail = client.get(f"/api/studies/{response.json()['id']}/").json()
    assert detail["metadata"] == {
        "modality": "CR",
        "body_part": "CHEST",
        "view_position": "PA",
        "patient_age_years": 62,
        "patient_sex": "M",
        "pixel_spacing_mm": [0.168, 0.168],
    }
    assert detail["screening"]["orientation"] == "upright"
    assert detail["screening"]["corrected"] is None


def test_monochrome1_dicom_is_accepted_and_shown_with_bright_bone(clinician, client_for, upload):
    client = client_for(clinician)
    reference = upload(client, (DICOM_DIR / "siim-sample.dcm").read_bytes(), "a.dcm").json()["id"]
    inverted = upload(client, (DICOM_DIR / "siim-sample-monochrome1.dcm").read_bytes(), "b.dcm")
    assert inverted.status_code == 202, inverted.content
    detail = client.get(f"/api/studies/{inverted.json()['id']}/").json()
    assert detail["screening"]["corrected"] == "inverted grey scale"

    def shown(study_id: str) -> np.ndarray:
        response = client.get(f"/api/studies/{study_id}/image/")
        return np.asarray(Image.open(io.BytesIO(b"".join(response.streaming_content))), dtype=np.int16)

    assert np.abs(shown(inverted.json()["id"]) - shown(reference)).max() <= 1


def test_upload_rate_limit_answers_429_with_retry_after(
    clinician, client_for, upload, radiograph_bytes, settings
):
    settings.CXR_UPLOAD_RATE = "2/min"
    client = client_for(clinician)
    assert [upload(client, radiograph_bytes).status_code for _ in range(2)] == [202, 202]
    response = upload(client, radiograph_bytes)
    assert_error_shape(response, 429)
    assert int(response["Retry-After"]) > 0


def test_pending_studies_cap_answers_429_with_retry_after(
    clinician, client_for, upload, radiograph_bytes, settings
):
    settings.CXR_MAX_PENDING_STUDIES_PER_USER = 1
    client = client_for(clinician)
    assert upload(client, radiograph_bytes).status_code == 202
    response = upload(client, radiograph_bytes)
    assert_error_shape(response, 429)
    assert response["Retry-After"] == "30"
    assert Study.objects.count() == 1


def test_declared_body_over_the_limit_is_refused_before_it_is_read(clinician, client_for, settings):
    settings.CXR_MAX_UPLOAD_BYTES = 1024
    response = client_for(clinician).generic(
        "POST",
        "/api/studies/",
        data=b"x" * 10,
        content_type="multipart/form-data; boundary=unused",
        CONTENT_LENGTH=str(10 * 1024 * 1024),
    )
    assert_error_shape(response, 413)
