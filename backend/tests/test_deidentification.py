"""No patient identifier of an uploaded DICOM reaches the database, media storage, logs or API."""

import logging
from pathlib import Path

import pytest
from django.db import connection

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


def test_sample_dicom_leaves_no_identifier_anywhere(clinician, client_for, upload, media_root, caplog):
    caplog.set_level(logging.DEBUG)
    client = client_for(clinician)
    created = upload(client, SAMPLE.read_bytes(), "siim-sample.dcm")
    assert created.status_code == 202, created.content
    study_id = created.json()["id"]
    studies_analyze(study_id=study_id, claimant="test")
    detail = client.get(f"/api/studies/{study_id}/")
    assert detail.json()["status"] == "done"

    answers = [created.content, detail.content, client.get("/api/studies/").content]
    for path in (f"/api/studies/{study_id}/image/", detail.json()["findings"][0]["heatmap"]):
        answers.append(b"".join(client.get(path).streaming_content))
    stored = media_bytes(media_root)
    assert any(path.suffix == ".dcm" for path, _ in stored), "the de-identified DICOM is kept"
    texts = {"database": database_text().encode(), "logs": caplog.text.encode()}

    for value in identifiers():
        needle = value.encode()
        for name, text in texts.items():
            assert needle not in text, f"{value} found in the {name}"
        for path, content in stored:
            assert needle not in content, f"{value} found in {path}"
        for answer in answers:
            assert needle not in answer, f"{value} found in an API answer"


def test_dicom_named_after_the_patient_is_stored_under_a_neutral_name(clinician, client_for, upload):
    patient_id = "16d7f894-55d7-4d95-8957-d18987f0e981"
    response = upload(client_for(clinician), SAMPLE.read_bytes(), f"{patient_id}.dcm")
    assert response.status_code == 202
    assert Study.objects.get(pk=response.json()["id"]).original_filename == "radiograph.dcm"
