"""CT series as studies: a zip of slices or a multi-frame DICOM goes from upload through the worker
to a CT result (each slice's probability, the patient's by the card's rule), stored de-identified;
what is not one CT series is refused with nothing stored."""

import dataclasses
import io
import tracemalloc
import zipfile
from datetime import timedelta

import cv2
import numpy as np
import pydicom
import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from common.jobs import jobs_reconcile
from ml.ct.card import untrained_ct_card
from ml.ct.hostile_zips import zeros_bomb
from ml.ct.model import build_resnet18
from ml.ct.series import read_ct_series
from ml.ct.synthetic import ct_slice, enhanced_ct, shuffled_series_zip
from ml.weights.directory import save_weights_directory
from studies.analysis import studies_analyze
from studies.models import AnalyserRun, Study, StudyStatus
from tests.factories import StudyFactory
from tests.test_auth import assert_error_shape

pytestmark = pytest.mark.django_db


def upload_and_analyse(client, upload, content: bytes, name: str) -> dict:
    created = upload(client, content, name)
    assert created.status_code == 202, created.content
    studies_analyze(study_id=created.json()["id"], claimant="test")
    return client.get(f"/api/studies/{created.json()['id']}/").json()


def stored_files() -> list[str]:
    folders, _ = default_storage.listdir("studies") if default_storage.exists("studies") else ([], [])
    return folders


def test_zip_of_shuffled_slices_runs_end_to_end_with_one_probability_per_slice_and_their_mean(
    clinician, client_for, upload
):
    client = client_for(clinician)
    data, _ = shuffled_series_zip(5)
    study = upload_and_analyse(client, upload, data, "series.zip")

    assert study["kind"] == "ct" and study["status"] == "done", study["message"]
    assert study["findings"] == [] and study["screener"] is None and study["segmentation"] is None
    ct = study["ct"]
    assert ct["status"] == "done" and len(ct["slice_probabilities"]) == 5
    assert ct["patient_probability"] == pytest.approx(np.mean(ct["slice_probabilities"]))
    assert ct["aggregation"] == "mean" and ct["positive"] == (ct["patient_probability"] >= ct["threshold"])
    assert ct["analyser"]["kind"] == "ct" and ct["analyser"]["trained"] is False
    assert ct["analyser"]["version"].endswith("-untrained-seed0")
    assert study["model"]["trained"] is False
    assert (study["width"], study["height"]) == (48, 40)
    assert AnalyserRun.objects.get(study_id=study["id"], kind="ct").score == ct["patient_probability"]

    strip = client.get(ct["strip"])
    assert strip.status_code == 200 and strip["Content-Type"] == "image/png"
    pixels = cv2.imdecode(np.frombuffer(b"".join(strip.streaming_content), np.uint8), cv2.IMREAD_COLOR)
    assert pixels.shape == (48, 512, 3)
    image = client.get(study["image"])
    middle = cv2.imdecode(np.frombuffer(b"".join(image.streaming_content), np.uint8), cv2.IMREAD_UNCHANGED)
    assert middle.shape == (40, 48)

    listed = client.get("/api/studies/").json()["results"]
    assert [item["kind"] for item in listed] == ["ct"]


def test_stored_zip_is_one_new_series_without_the_originals_patient_name_or_id(clinician, client_for, upload):
    data, hounsfield = shuffled_series_zip(4)
    created = upload(client_for(clinician), data, "Test^Patient.zip")
    study = Study.objects.get(pk=created.json()["id"])
    assert study.key_image.original_filename == "ct-series.zip"
    with default_storage.open(study.key_image.original_file.name, "rb") as handle:
        stored = handle.read()
    assert b"Test^Patient" not in stored
    with zipfile.ZipFile(io.BytesIO(stored)) as archive:
        slices = [pydicom.dcmread(io.BytesIO(archive.read(name))) for name in archive.namelist()]
    assert len(slices) == 4
    assert {str(s.PatientName) for s in slices} == {""} and {str(s.PatientID) for s in slices} == {""}
    assert len({s.SeriesInstanceUID for s in slices}) == 1 and slices[0].SeriesInstanceUID != "1.2.3.4"
    # The slices keep their places and their rescale: the stored series reads back to the same HU.
    np.testing.assert_array_equal(read_ct_series(stored).hounsfield, hounsfield)


def test_multiframe_ct_dicom_is_a_ct_study_with_one_probability_per_frame(clinician, client_for, upload):
    stored = np.random.default_rng(3).integers(0, 1000, (3, 32, 32))
    data = enhanced_ct(stored, zs=[5.0, 0.0, 2.5], slopes=[1.0, 2.0, 1.0], intercepts=[-1024.0] * 3)
    study = upload_and_analyse(client_for(clinician), upload, data, "enhanced.dcm")
    assert study["kind"] == "ct" and study["status"] == "done", study["message"]
    assert len(study["ct"]["slice_probabilities"]) == 3
    assert Study.objects.get(pk=study["id"]).key_image.original_file.name.endswith(".dcm")


def analyse_with_ct_card(settings, directory, card, client, upload) -> dict:
    """A series analysed by a small ResNet-18 saved under ``card`` through the ml API."""
    from studies import inference

    save_weights_directory(build_resnet18(card.input_size, card.base_filters), directory, card)
    settings.CXR_ANALYSER_WEIGHTS = {**settings.CXR_ANALYSER_WEIGHTS, "ct": str(directory)}
    inference._pipeline = None  # this process's pipeline is built again with these weights
    try:
        return upload_and_analyse(client, upload, shuffled_series_zip(6)[0], "series.zip")
    finally:
        inference._pipeline = None


def test_card_aggregation_max_makes_the_patient_probability_the_highest_slices(
    settings, tmp_path, clinician, client_for, upload
):
    card = dataclasses.replace(
        untrained_ct_card(), input_size=32, base_filters=8, aggregation="max", version="0.1.0-max-test"
    )
    study = analyse_with_ct_card(settings, tmp_path / "ct", card, client_for(clinician), upload)
    ct = study["ct"]
    assert ct["aggregation"] == "max" and ct["analyser"]["version"] == "0.1.0-max-test"
    assert ct["patient_probability"] == max(ct["slice_probabilities"])
    assert len(set(ct["slice_probabilities"])) > 1, "the slices differ, so max and mean differ"


def test_a_trained_ct_cards_patient_level_validation_does_not_break_the_study(
    settings, tmp_path, clinician, client_for, upload
):
    validation = {"patients": 40, "aggregation": "mean", "auroc": 0.8, "auroc_ci95": [0.7, 0.9]}
    card = dataclasses.replace(
        untrained_ct_card(),
        input_size=32,
        base_filters=8,
        trained=True,
        version="1.0.0",
        validation=validation,
    )
    study = analyse_with_ct_card(settings, tmp_path / "ct", card, client_for(clinician), upload)
    assert study["status"] == "done" and study["ct"]["analyser"]["trained"] is True
    assert study["model"]["trained"] is True and study["model"]["validation"] is None


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def mixed_series() -> bytes:
    stored = np.zeros((8, 8))
    return zip_of(
        {
            "a.dcm": ct_slice(stored, z=0.0, series_uid="1.2.3.4"),
            "b.dcm": ct_slice(stored, z=1.0, series_uid="1.2.3.5"),
        }
    )


@pytest.mark.parametrize(
    ("make", "status", "words"),
    [
        (lambda _: mixed_series(), 422, "series"),
        (lambda _: shuffled_series_zip(3, modality="MR")[0], 422, "modality"),
        (lambda _: zip_of({"a.png": b"\x89PNG\r\n\x1a\n" + bytes(64)}), 400, "DICOM"),
    ],
    ids=["mixed-series", "mr-series", "zip-of-pngs"],
)
def test_what_is_not_one_ct_series_is_refused_with_its_reason_and_nothing_stored(
    make, status, words, monkeypatch, clinician, client_for, upload
):
    response = upload(client_for(clinician), make(monkeypatch), "series.zip")
    assert_error_shape(response, status)
    assert words.lower() in response.json()["message"].lower()
    assert Study.objects.count() == 0 and stored_files() == []


def traversal_zip(name: str) -> bytes:
    """Three good slices and one more under a name that leads out of the archive."""
    return zip_of(
        {f"{index}.dcm": ct_slice(np.zeros((8, 8)), z=float(index)) for index in range(3)}
        | {name: ct_slice(np.zeros((8, 8)), z=3.0)}
    )


@pytest.mark.parametrize(
    ("make", "status", "words"),
    [
        (lambda: zeros_bomb(2 << 30), 413, "bomb.dcm in the zip file expands to 2,048 MiB"),
        (
            lambda: zeros_bomb(2 << 30, declared_size=60 << 20),
            400,
            "bomb.dcm in the zip file is not a readable DICOM",
        ),
        (lambda: zeros_bomb(2 << 30, dicom_mark=True, declared_size=60 << 20), 413, "refused as a zip bomb"),
        (lambda: traversal_zip("../../etc/x.dcm"), 400, 'named "../../etc/x.dcm"'),
        (lambda: traversal_zip("/etc/x.dcm"), 400, 'named "/etc/x.dcm"'),
        (lambda: traversal_zip("C:\\Windows\\x.dcm"), 400, 'named "C:\\Windows\\x.dcm"'),
    ],
    ids=[
        "2-gib-bomb",
        "bomb-declaring-60-mib",
        "dicom-bomb-declaring-60-mib",
        "dot-dot",
        "absolute",
        "drive",
    ],
)
def test_hostile_zip_upload_is_refused_by_the_web_process_with_little_memory_naming_the_problem(
    make, status, words, clinician, client_for, upload
):
    data = make()
    client = client_for(clinician)
    tracemalloc.start()
    try:
        response = upload(client, data, "series.zip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_error_shape(response, status)
    assert words in response.json()["message"]
    # The whole request in the web process: Django, the intake, and the refusal (was gigabytes).
    assert peak < 100 << 20, f"{peak / 2**20:.0f} MiB"
    assert Study.objects.count() == 0 and stored_files() == []


def test_another_clinicians_ct_study_and_strip_are_404_and_its_pdf_report_is_refused(
    clinician, other_clinician, client_for, upload
):
    study = upload_and_analyse(client_for(clinician), upload, shuffled_series_zip(3)[0], "series.zip")
    other = client_for(other_clinician)
    assert other.get(f"/api/studies/{study['id']}/").status_code == 404
    assert other.get(f"/api/studies/{study['id']}/ct-strip/").status_code == 404
    own = client_for(clinician)
    # Its FHIR report carries the CT result (tests/test_pacs_fhir.py); the PDF is for radiographs.
    response = own.get(f"/api/studies/{study['id']}/report/")
    assert_error_shape(response, 400)
    assert "CT study" in response.json()["message"]


def test_same_series_uploaded_again_is_answered_from_the_cache(clinician, client_for, upload):
    client = client_for(clinician)
    data, _ = shuffled_series_zip(3)
    first = upload_and_analyse(client, upload, data, "series.zip")
    again = upload(client, data, "series.zip").json()
    assert again["cached"] is True and again["status"] == "done"
    second = client.get(f"/api/studies/{again['id']}/").json()
    assert second["ct"]["slice_probabilities"] == first["ct"]["slice_probabilities"]


def test_a_ct_study_whose_message_was_lost_is_enqueued_again_by_the_reconciler_and_then_analysed(
    settings, clinician, client_for, upload
):
    created = upload(client_for(clinician), shuffled_series_zip(3)[0], "series.zip").json()
    Study.objects.filter(pk=created["id"]).update(
        enqueued_at=timezone.now() - timedelta(seconds=settings.CXR_QUEUED_DEADLINE_SECONDS + 1)
    )
    assert [str(study_id) for study_id in jobs_reconcile().requeued["study"]] == [created["id"]]
    studies_analyze(study_id=created["id"], claimant="redelivered")
    study = Study.objects.get(pk=created["id"])
    assert study.status == StudyStatus.DONE and study.requeues == 1
    assert AnalyserRun.objects.get(study=study, kind="ct").status == "done"


def test_ct_uploads_count_towards_the_pending_cap_and_are_refused_with_429_over_it(
    settings, clinician, client_for, upload
):
    settings.CXR_MAX_PENDING_STUDIES_PER_USER = 1
    client = client_for(clinician)
    assert upload(client, shuffled_series_zip(3, seed=1)[0], "a.zip").status_code == 202
    refused = upload(client, shuffled_series_zip(3, seed=2)[0], "b.zip")
    assert_error_shape(refused, 429)
    assert Study.objects.count() == 1 and len(stored_files()) == 1


def test_the_ct_strip_download_is_audited(clinician, client_for, upload):
    client = client_for(clinician)
    study = upload_and_analyse(client, upload, shuffled_series_zip(3)[0], "series.zip")
    assert client.get(study["ct"]["strip"]).status_code == 200
    event = AuditEvent.objects.filter(action=AuditAction.IMAGE_DOWNLOAD, target_id=study["id"]).get()
    assert event.detail == {"image": "ct-strip"} and event.actor == clinician


def test_a_batch_with_a_radiograph_and_a_ct_series_gives_each_its_own_analyser(
    settings, clinician, client_for, upload, radiograph_bytes
):
    settings.CXR_ANALYSIS_BATCH_SIZE = 4
    client = client_for(clinician)
    radiograph = upload(client, radiograph_bytes, "chest.png").json()["id"]
    series = upload(client, shuffled_series_zip(3)[0], "series.zip").json()["id"]
    studies_analyze(study_id=radiograph, claimant="batch")  # claims the CT study with it

    radiograph_study = client.get(f"/api/studies/{radiograph}/").json()
    ct_study = client.get(f"/api/studies/{series}/").json()
    assert radiograph_study["status"] == ct_study["status"] == "done"
    assert len(radiograph_study["findings"]) == 14 and radiograph_study["ct"] is None
    assert ct_study["findings"] == [] and len(ct_study["ct"]["slice_probabilities"]) == 3
    assert Study.objects.get(pk=series).claimed_by == "batch"


def test_the_worklist_row_of_a_ct_study_carries_its_patient_level_result_and_a_radiographs_none(
    clinician, client_for, upload, radiograph_bytes
):
    client = client_for(clinician)
    data, _ = shuffled_series_zip(4)
    ct = upload_and_analyse(client, upload, data, "series.zip")["ct"]
    upload(client, radiograph_bytes, "chest.png")
    rows = {row["kind"]: row for row in client.get("/api/studies/").json()["results"]}
    assert rows["ct"]["ct_result"] == {
        "status": "done",
        "patient_probability": ct["patient_probability"],
        "threshold": ct["threshold"],
        "positive": ct["positive"],
        "trained": False,
    }
    assert rows["radiograph"]["ct_result"] is None


def test_each_ct_slice_is_served_as_the_model_saw_it_one_past_the_last_is_404_a_radiograph_400(
    clinician, other_clinician, client_for, upload
):
    client = client_for(clinician)
    data, _ = shuffled_series_zip(5)
    study = upload_and_analyse(client, upload, data, "series.zip")
    slices = []
    for index in range(5):
        answer = client.get(f"/api/studies/{study['id']}/ct-slices/{index}/")
        assert answer.status_code == 200 and answer["Content-Type"] == "image/png"
        slices.append(
            cv2.imdecode(np.frombuffer(b"".join(answer.streaming_content), np.uint8), cv2.IMREAD_UNCHANGED)
        )
    assert {pixels.ndim for pixels in slices} == {2}
    # Each slice its own picture: the series is scrolled through, not one slice shown five times.
    assert len({pixels.tobytes() for pixels in slices}) == 5
    assert_error_shape(client.get(f"/api/studies/{study['id']}/ct-slices/5/"), 404)
    assert_error_shape(client_for(other_clinician).get(f"/api/studies/{study['id']}/ct-slices/0/"), 404)
    radiograph = StudyFactory(owner=clinician)
    assert_error_shape(client.get(f"/api/studies/{radiograph.id}/ct-slices/0/"), 400)
