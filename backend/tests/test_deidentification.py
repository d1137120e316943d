"""No patient identifier of an upload reaches the database, media storage, logs or API answers."""

import io
import logging
from pathlib import Path

import pytest
from django.db import connection
from PIL import Image, PngImagePlugin

from ml.images.dicom import identifying_values
from studies.analysis import studies_analyze
from studies.models import Study
from tests.conftest import CXR_DATA_DIR

pytestmark = pytest.mark.django_db

SAMPLE = CXR_DATA_DIR / "dicom" / "siim-sample.dcm"


def identifiers() -> list[str]:
    values = identifying_values(SAMPLE.read_bytes())
    assert "16d7f894-55d7-4d95-8957-d18987f0e981" in values  # the sample's patient name and id
    return [*values, "19010101"]  # and its study date


def database_text() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [row[0] for row in cursor.fetchall()]
        rows = []
        for table in tables:
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t')  # table names come from pg_tables
            rows.extend(row[0] for row in cursor.fetchall())
    return "\n".join(rows)


def media_bytes(media_root: Path) -> list[tuple[Path, bytes]]:
    return [(path, path.read_bytes()) for path in media_root.rglob("*") if path.is_file()]


def upload_and_collect(client, upload, media_root, content: bytes, filename: str) -> dict[str, bytes]:
    """Upload, analyse, read every answer about the study; then everything the service keeps."""
    created = upload(client, content, filename)
    assert created.status_code == 202, created.content
    study_id = created.json()["id"]
    studies_analyze(study_id=study_id, claimant="test")
    detail = client.get(f"/api/studies/{study_id}/")
    assert detail.json()["status"] == "done"
    places = {
        "upload answer": created.content,
        "study answer": detail.content,
        "worklist": client.get("/api/studies/").content,
        "report": client.get(f"/api/studies/{study_id}/report/?labels=").content,
        "database": database_text().encode(),
    }
    for path in (f"/api/studies/{study_id}/image/", detail.json()["findings"][0]["heatmap"]):
        places[path] = b"".join(client.get(path).streaming_content)
    for path, content in media_bytes(media_root):
        places[str(path)] = content + stored_metadata(content)
    return places


def stored_metadata(content: bytes) -> bytes:
    """What Pillow finds in a stored image's metadata, decompressed (zTXt, iCCP, EXIF)."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.load()
            return repr(image.info).encode() + repr(dict(image.getexif())).encode()
    except Exception:  # not an image (heatmaps, model input): its raw bytes were searched
        return b""


def assert_absent(needles: list[str], places: dict[str, bytes]) -> None:
    for value in needles:
        for form in (value.encode(), value.encode("utf-16-be")):
            for place, content in places.items():
                assert form not in content, f"{value} found in {place}"


def test_sample_dicom_leaves_no_identifier_anywhere(clinician, client_for, upload, media_root, caplog):
    caplog.set_level(logging.DEBUG)
    client = client_for(clinician)
    places = upload_and_collect(client, upload, media_root, SAMPLE.read_bytes(), "siim-sample.dcm")
    assert any(place.endswith(".dcm") for place in places), "the de-identified DICOM is kept"
    assert_absent(identifiers(), {**places, "logs": caplog.text.encode()})


PATIENT = "Wilhelmina Fairbrother"


def radiograph_with_the_name_everywhere(radiograph_path: Path, file_format: str) -> bytes:
    """The radiograph with the patient's name in EXIF, XMP, the ICC description, text chunks or a comment."""
    exif = Image.Exif()
    exif[0x013B] = PATIENT  # Artist
    exif[0x010E] = f"Chest PA of {PATIENT}"  # ImageDescription
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>{PATIENT}</dc:creator></x:xmpmeta>'
    icc = b"\x00" * 128 + b"desc" + PATIENT.encode("utf-16-be")
    image = Image.open(radiograph_path).convert("L")
    buffer = io.BytesIO()
    if file_format == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Author", PATIENT)
        info.add_text("Comment", PATIENT, zip=True)
        info.add_itxt("XML:com.adobe.xmp", xmp, zip=True)
        image.save(buffer, format="PNG", pnginfo=info, exif=exif, icc_profile=icc)
    else:
        image.save(buffer, format="JPEG", exif=exif, icc_profile=icc, comment=PATIENT, xmp=xmp.encode())
    return buffer.getvalue()


@pytest.mark.parametrize(("file_format", "extension"), [("PNG", "png"), ("JPEG", "jpg")])
def test_name_planted_in_image_metadata_and_file_name_is_nowhere(
    file_format, extension, clinician, client_for, upload, media_root, radiograph_path, caplog
):
    caplog.set_level(logging.DEBUG)
    content = radiograph_with_the_name_everywhere(radiograph_path, file_format)
    assert PATIENT.encode() in content
    filename = f"{PATIENT.replace(' ', '_')}.{extension}"
    places = upload_and_collect(client_for(clinician), upload, media_root, content, filename)
    assert_absent(PATIENT.split(), {**places, "logs": caplog.text.encode()})
    assert Study.objects.get().key_image.original_filename == f"radiograph.{extension}"


def test_dicom_named_after_the_patient_is_stored_under_a_neutral_name(clinician, client_for, upload):
    patient_id = "16d7f894-55d7-4d95-8957-d18987f0e981"
    response = upload(client_for(clinician), SAMPLE.read_bytes(), f"{patient_id}.dcm")
    assert response.status_code == 202
    assert Study.objects.get(pk=response.json()["id"]).key_image.original_filename == "radiograph.dcm"
