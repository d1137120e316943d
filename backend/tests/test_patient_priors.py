"""The patient's context and priors: a pseudonymous patient key (a keyed hash of the PACS's Patient
ID and issuer, or of a reference the clinician types) computed from the real DICOM sample as it
arrives by upload, STOW-RS or C-STORE; files of different patients refused; the worklist's age, sex,
view and uploader; and the prior study a user may see offered on the study page."""

import hashlib
import hmac
import logging
from pathlib import Path

import pydicom
import pytest
import redis
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from pydicom.uid import generate_uid

from studies.analysis import studies_analyze
from studies.models import Study, StudyImage, StudyStatus
from studies.patients import patient_key
from tests.conftest import NIH_DIR
from tests.test_auth import assert_error_shape
from tests.test_multi_image_studies import FRONTAL_DICOM, dicom_with, nih
from tests.test_pacs_dicom_in import listener, service_account, storescu, stow  # noqa: F401 (fixtures)
from tests.test_studies_api import stored_files

pytestmark = pytest.mark.django_db

# A hospital number no other test or file uses, so that finding it anywhere is this test's leak.
RAW_PATIENT_ID = "MRN-PRIOR-53091"
SAMPLE_PATIENT_ID = str(pydicom.dcmread(FRONTAL_DICOM).PatientID)


def patient_dicom(patient_id: str = RAW_PATIENT_ID, **attributes: str) -> bytes:
    """The real DICOM sample as another patient's (and another study, so never the result cache's)."""
    return dicom_with(PatientID=patient_id, StudyInstanceUID=generate_uid(), **attributes)


def upload_one(client, content: bytes, name: str, on_commit, *, idempotency_key: str = "", **fields: str):
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    body = {"image": SimpleUploadedFile(name, content), **fields}
    with on_commit(execute=True):
        return client.post("/api/studies/", body, format="multipart", **headers)


def upload_many(client, files: list[tuple[str, bytes]], django_capture_on_commit_callbacks, **fields: str):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            "/api/studies/",
            {"images": [SimpleUploadedFile(name, content) for name, content in files], **fields},
            format="multipart",
        )


def tables_holding(text: str) -> list[str]:
    """Every table of the database with a row whose text (all its columns, JSON included) holds ``text``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public'")
        tables = [row[0] for row in cursor.fetchall()]
        holding = []
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table} AS row WHERE row::text LIKE %s", [f"%{text}%"])
            if cursor.fetchone()[0]:
                holding.append(table)
    return holding


def cache_entries_holding(text: str) -> list[bytes]:
    """Keys of the Redis cache (this run's database) whose value holds ``text``."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    return [
        key
        for key in client.scan_iter(count=500)
        if client.type(key) == b"string" and text.encode() in (client.get(key) or b"")
    ]


def media_files_holding(text: str) -> list[Path]:
    return [
        path
        for path in Path(settings.MEDIA_ROOT).rglob("*")
        if path.is_file() and text.encode() in path.read_bytes()
    ]


def done(client, study_id: str) -> dict:
    """The study analysed in this process by the real (seeded, untrained) engine."""
    studies_analyze(study_id=study_id, claimant="test")
    study = client.get(f"/api/studies/{study_id}/").json()
    assert study["status"] == "done", study["message"]
    return study


def test_the_patient_key_is_a_keyed_hash_equal_for_upload_and_stow_rs_and_the_id_in_no_row_log_file_or_cache(
    clinician, client_for, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.DEBUG)
    client = client_for(clinician)
    uploaded = upload_one(client, patient_dicom(), "chest.dcm", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        sent = stow(client, [("application/dicom", patient_dicom())])
    assert uploaded.status_code == 202, uploaded.content
    assert sent.status_code == 200, sent.content
    done(client, uploaded.json()["id"])

    keys = {study.patient_key for study in Study.objects.all()}
    expected = hmac.new(
        settings.CXR_PATIENT_KEY_SECRET.encode(), f'["", "{RAW_PATIENT_ID}"]'.encode(), hashlib.sha256
    ).hexdigest()
    assert Study.objects.count() == 2 and keys == {expected}
    # Derived from SECRET_KEY under its own label: not SECRET_KEY itself, nor an unkeyed hash.
    assert settings.CXR_PATIENT_KEY_SECRET != settings.SECRET_KEY
    assert expected != hashlib.sha256(RAW_PATIENT_ID.encode()).hexdigest()
    assert tables_holding(RAW_PATIENT_ID) == []
    assert tables_holding(expected) == ["studies_study"]
    assert media_files_holding(RAW_PATIENT_ID) == [] and len(stored_files()) >= 2
    assert cache_entries_holding(RAW_PATIENT_ID) == []
    assert RAW_PATIENT_ID not in caplog.text
    assert all(RAW_PATIENT_ID not in str(record.args) for record in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_an_image_sent_by_c_store_gets_the_key_an_upload_of_the_same_patient_gets(
    listener,  # noqa: F811
    service_account,  # noqa: F811
    clinician,
    client_for,
    django_capture_on_commit_callbacks,
    tmp_path,
):
    sent_file = tmp_path / "sent.dcm"
    sent_file.write_bytes(patient_dicom())

    sent = storescu(listener, sent_file)
    uploaded = upload_one(
        client_for(clinician), patient_dicom(), "chest.dcm", django_capture_on_commit_callbacks
    )

    assert sent.returncode == 0, sent.stderr
    assert uploaded.status_code == 202, uploaded.content
    received = Study.objects.get(owner=service_account)
    assert received.patient_key == Study.objects.get(owner=clinician).patient_key != ""
    assert tables_holding(RAW_PATIENT_ID) == []


def test_one_patient_id_from_two_issuers_is_two_patients(
    clinician, client_for, django_capture_on_commit_callbacks
):
    client = client_for(clinician)
    for issuer in ("HOSPITAL-A", "HOSPITAL-B", "HOSPITAL-A"):
        created = upload_one(
            client, patient_dicom(IssuerOfPatientID=issuer), "chest.dcm", django_capture_on_commit_callbacks
        )
        assert created.status_code == 202, created.content
    first, second, third = Study.objects.order_by("created_at")
    assert first.patient_key == third.patient_key != second.patient_key
    assert first.patient_key == patient_key(patient_id=RAW_PATIENT_ID, issuer="HOSPITAL-A")


def test_a_typed_patient_reference_links_films_and_meets_the_dicom_patient_of_the_configured_issuer(
    clinician, client_for, django_capture_on_commit_callbacks, settings
):
    settings.CXR_PATIENT_REFERENCE_ISSUER = "HOSPITAL-A"
    client = client_for(clinician)
    film = upload_one(
        client,
        nih("00030012_000.png"),
        "film.png",
        django_capture_on_commit_callbacks,
        patient_reference=f"  {RAW_PATIENT_ID} ",
    )
    dicom = upload_one(
        client, patient_dicom(IssuerOfPatientID="HOSPITAL-A"), "chest.dcm", django_capture_on_commit_callbacks
    )
    unnamed = upload_one(client, nih("00029464_000.png"), "other.png", django_capture_on_commit_callbacks)

    assert {film.status_code, dicom.status_code, unnamed.status_code} == {202}
    keys = {
        response.json()["id"]: Study.objects.get(pk=response.json()["id"]).patient_key
        for response in (film, dicom, unnamed)
    }
    assert keys[film.json()["id"]] == keys[dicom.json()["id"]] != ""
    assert keys[unnamed.json()["id"]] == ""
    assert tables_holding(RAW_PATIENT_ID) == []


@pytest.mark.parametrize(
    "reference",
    ["A" * 65, "MRN\n42", "../etc", "<script>", "MRN\\42", "MRN\x0042", "-42"],
    ids=["too-long", "newline", "dot-first", "markup", "backslash", "nul", "dash-first"],
)
def test_a_patient_reference_of_other_characters_or_too_long_is_400_not_echoed_and_nothing_stored(
    reference, clinician, client_for, django_capture_on_commit_callbacks
):
    response = upload_one(
        client_for(clinician),
        nih("00030012_000.png"),
        "film.png",
        django_capture_on_commit_callbacks,
        patient_reference=reference,
    )
    assert_error_shape(response, 400)
    assert "patient_reference" in response.json()["extra"]["fields"]
    assert reference.strip() not in response.content.decode()
    assert not Study.objects.exists() and stored_files() == []


def test_dicom_files_of_two_patients_are_refused_naming_the_files_and_nothing_is_stored(
    clinician, client_for, django_capture_on_commit_callbacks
):
    study_uid = generate_uid()
    files = [
        ("mine.dcm", dicom_with(PatientID=RAW_PATIENT_ID, StudyInstanceUID=study_uid)),
        ("theirs.dcm", dicom_with(PatientID="MRN-OTHER-1", StudyInstanceUID=study_uid, ViewPosition="LL")),
        ("mine-too.dcm", dicom_with(PatientID=RAW_PATIENT_ID, StudyInstanceUID=study_uid, ViewPosition="AP")),
    ]
    response = upload_many(client_for(clinician), files, django_capture_on_commit_callbacks)

    assert_error_shape(response, 400)
    body = response.json()
    assert body["extra"] == {
        "reason": "different patients",
        "patients": [["mine.dcm", "mine-too.dcm"], ["theirs.dcm"]],
    }
    assert "theirs.dcm" in body["message"]
    assert RAW_PATIENT_ID not in response.content.decode() and "MRN-OTHER-1" not in response.content.decode()
    assert not Study.objects.exists() and not StudyImage.objects.exists() and stored_files() == []


def test_a_film_beside_the_62_year_old_mans_dicom_is_refused_unless_his_reference_is_typed(
    clinician, client_for, django_capture_on_commit_callbacks
):
    client = client_for(clinician)
    files = [("man-62.dcm", FRONTAL_DICOM.read_bytes()), ("film.png", nih("00030012_000.png"))]

    unconfirmed = upload_many(client, files, django_capture_on_commit_callbacks)
    assert_error_shape(unconfirmed, 400)
    assert unconfirmed.json()["extra"] == {
        "reason": "patient not confirmed",
        "with_patient": ["man-62.dcm"],
        "without_patient": ["film.png"],
    }
    assert not Study.objects.exists() and stored_files() == []

    wrong = upload_many(
        client, files, django_capture_on_commit_callbacks, patient_reference="MRN-SOMEONE-ELSE"
    )
    assert_error_shape(wrong, 400)
    assert wrong.json()["extra"] == {"reason": "patient reference mismatch", "files": ["man-62.dcm"]}
    assert not Study.objects.exists() and stored_files() == []

    confirmed = upload_many(
        client, files, django_capture_on_commit_callbacks, patient_reference=SAMPLE_PATIENT_ID
    )
    assert confirmed.status_code == 202, confirmed.content
    study = Study.objects.get(pk=confirmed.json()["id"])
    assert (
        study.patient_key == patient_key(patient_id=SAMPLE_PATIENT_ID, issuer="")
        and study.images.count() == 2
    )


def test_an_image_of_another_patient_under_a_pacs_studys_uid_does_not_join_it(
    clinician, client_for, django_capture_on_commit_callbacks
):
    study_uid = generate_uid()
    client = client_for(clinician)
    with django_capture_on_commit_callbacks(execute=True):
        first = stow(
            client, [("application/dicom", dicom_with(PatientID=RAW_PATIENT_ID, StudyInstanceUID=study_uid))]
        )
        other = stow(
            client, [("application/dicom", dicom_with(PatientID="MRN-OTHER-2", StudyInstanceUID=study_uid))]
        )

    assert first.status_code == 200, first.content
    assert_error_shape(other, 409)
    assert Study.objects.get().images.count() == 1


def test_the_worklist_says_age_sex_view_and_who_uploaded_each_study(
    clinician, other_clinician, admin_user, client_for, django_capture_on_commit_callbacks
):
    upload_one(
        client_for(clinician), FRONTAL_DICOM.read_bytes(), "chest.dcm", django_capture_on_commit_callbacks
    )
    upload_one(
        client_for(other_clinician), nih("00030012_000.png"), "film.png", django_capture_on_commit_callbacks
    )

    rows = {
        row["original_filename"]: row for row in client_for(admin_user).get("/api/studies/").json()["results"]
    }
    facts = ("patient_age_years", "patient_sex", "view_position", "uploaded_by")
    assert [rows["chest.dcm"][fact] for fact in facts] == [62, "M", "PA", clinician.username]
    assert [rows["film.png"][fact] for fact in facts] == [None, None, None, other_clinician.username]
    (own,) = client_for(clinician).get("/api/studies/").json()["results"]
    assert own["uploaded_by"] == clinician.username


def test_the_study_page_offers_the_patients_latest_earlier_analysed_study_the_user_may_see_and_no_other(
    clinician, other_clinician, admin_user, client_for, django_capture_on_commit_callbacks
):
    mine, theirs, admin = client_for(clinician), client_for(other_clinician), client_for(admin_user)
    films = sorted(NIH_DIR.glob("*.png"))

    def study_of(client, index: int, reference: str = RAW_PATIENT_ID, analyse: bool = True) -> str:
        created = upload_one(
            client,
            films[index].read_bytes(),
            f"film-{index}.png",
            django_capture_on_commit_callbacks,
            **({"patient_reference": reference} if reference else {}),
        )
        assert created.status_code == 202, created.content
        if analyse:
            done(client, created.json()["id"])
        else:
            # Its analysis failed: nothing to compare with.
            Study.objects.filter(pk=created.json()["id"]).update(status=StudyStatus.FAILED, message="lost")
        return created.json()["id"]

    another_clinicians = study_of(theirs, 0)
    first = study_of(mine, 1)
    study_of(mine, 2, reference="MRN-ANOTHER-PATIENT")
    second = study_of(mine, 3)
    study_of(mine, 4, analyse=False)
    latest = study_of(mine, 5)
    unnamed = study_of(mine, 6, reference="")

    def prior_of(client, study_id: str) -> str | None:
        study = client.get(f"/api/studies/{study_id}/").json()
        return study["prior"]["id"] if study["prior"] else None

    assert prior_of(mine, latest) == second
    assert prior_of(mine, second) == first
    # The other clinician's earlier study of the patient is neither offered nor hinted at.
    first_page = mine.get(f"/api/studies/{first}/")
    assert first_page.json()["prior"] is None and first_page.json()["patient_known"] is True
    assert another_clinicians not in first_page.content.decode()
    assert prior_of(theirs, another_clinicians) is None
    assert mine.get(f"/api/studies/{unnamed}/").json()["patient_known"] is False
    assert prior_of(mine, unnamed) is None
    # An admin sees every study, so the other clinician's is the first one's prior for them.
    assert prior_of(admin, first) == another_clinicians
    prior = mine.get(f"/api/studies/{latest}/").json()["prior"]
    assert prior["original_filename"] == "film-3.png" and prior["created_at"]


def test_a_retry_with_the_same_idempotency_key_for_another_patient_is_422_and_the_key_holds_no_reference(
    clinician, client_for, django_capture_on_commit_callbacks
):
    client = client_for(clinician)
    film = nih("00030012_000.png")

    def send(reference: str):
        return upload_one(
            client,
            film,
            "film.png",
            django_capture_on_commit_callbacks,
            patient_reference=reference,
            idempotency_key="upload-1",
        )

    first, retry, other = send(RAW_PATIENT_ID), send(RAW_PATIENT_ID), send("MRN-OTHER-3")

    assert first.status_code == 202, first.content
    assert retry.status_code == 202 and retry.headers["Idempotent-Replayed"] == "true"
    assert_error_shape(other, 422)
    assert Study.objects.count() == 1
    assert tables_holding(RAW_PATIENT_ID) == []
