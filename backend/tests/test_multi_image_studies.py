"""Studies of several images: uploads grouped into one study, each image analysed (laterals kept but
not analysed), the study's findings aggregated by the card's rule, and the routes of each image."""

import io
from pathlib import Path

import pydicom
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pydicom.uid import generate_uid

from audit.models import AuditAction, AuditEvent
from ml.classifier.analyser import CLASSIFIER
from ml.classifier.card import ModelCard
from ml.classifier.postprocess import calibrated_score
from ml.ct.synthetic import shuffled_series_zip
from pacs.models import ReceivedImage, ReceivedProtocol
from pacs.services import pacs_received, received_image_store
from studies import inference
from studies.analysis import prepared_input, studies_analyze, studies_claim, study_store_results
from studies.images import NOT_ANALYSED_LATERAL
from studies.models import ImageFinding, Study, StudyImage
from tests.conftest import CXR_DATA_DIR, NIH_DIR
from tests.test_auth import assert_error_shape
from tests.test_pacs_dicom_in import png_as_dicom
from tests.test_reports import pdf_text
from tests.test_studies_api import stored_files

pytestmark = pytest.mark.django_db

FRONTAL_DICOM = CXR_DATA_DIR / "dicom" / "siim-sample.dcm"
TWO_RADIOGRAPHS = ("00030012_000.png", "00029464_000.png")


def nih(name: str) -> bytes:
    path = NIH_DIR / name
    if not path.is_file():
        pytest.fail(f"Real radiographs are missing: expected {path}")
    return path.read_bytes()


def dicom_with(**attributes: str) -> bytes:
    """The real DICOM chest radiograph with some attributes changed (a lateral view, another study)."""
    dataset = pydicom.dcmread(FRONTAL_DICOM)
    for keyword, value in attributes.items():
        setattr(dataset, keyword, value)
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def max_rule_weights(tmp_path_factory) -> Path:
    """The seeded untrained network installed as a weights directory whose card says "max"."""
    from ml.classifier.engine import InferenceEngine

    directory = tmp_path_factory.mktemp("max-rule") / "weights"
    card = InferenceEngine.load(None, backend="keras").save(directory, trained=False)
    ModelCard.from_dict({**card.to_dict(), "study_aggregation": "max"}).save(directory / "card.json")
    return directory


def two_image_study(client, upload_images) -> dict:
    files = [(name, nih(name)) for name in TWO_RADIOGRAPHS]
    created = upload_images(client, files)
    assert created.status_code == 202, created.content
    studies_analyze(study_id=created.json()["id"], claimant="test")
    study = client.get(f"/api/studies/{created.json()['id']}/").json()
    assert study["status"] == "done", study["message"]
    return study


def assert_study_findings_are(study: dict, combine) -> None:
    """The study's findings are ``combine`` of its images' probabilities, thresholded after."""
    per_image = [{finding["label"]: finding for finding in image["findings"]} for image in study["images"]]
    assert len(study["findings"]) == 14
    for finding in study["findings"]:
        expected = combine([image[finding["label"]]["probability"] for image in per_image])
        assert finding["probability"] == pytest.approx(expected, abs=1e-9)
        assert finding["positive"] == (expected >= finding["threshold"])
        assert finding["calibrated_score"] == pytest.approx(calibrated_score(expected, finding["threshold"]))


def test_two_radiographs_uploaded_together_make_one_study_whose_findings_are_the_mean(
    clinician, client_for, upload_images
):
    client = client_for(clinician)
    study = two_image_study(client, upload_images)

    assert study["image_count"] == 2
    assert study["aggregation"] == {"rule": "mean", "images": 2}
    assert [image["position"] for image in study["images"]] == [0, 1]
    assert all(image["analysed"] and image["view"] == "frontal" for image in study["images"])
    assert all(len(image["findings"]) == 14 for image in study["images"])
    probabilities = [[finding["probability"] for finding in image["findings"]] for image in study["images"]]
    assert probabilities[0] != probabilities[1]
    assert_study_findings_are(study, lambda values: sum(values) / len(values))
    # The study's own image fields are its key image's (the first frontal one).
    assert study["original_filename"] == TWO_RADIOGRAPHS[0]

    second = study["images"][1]
    picture = client.get(second["image"])
    assert picture.status_code == 200 and picture["Content-Type"] == "image/png"
    heatmap = client.get(second["findings"][0]["heatmap"])
    assert heatmap.status_code == 200 and heatmap["Content-Type"] == "image/png"
    audited = AuditEvent.objects.filter(action=AuditAction.HEATMAP_DOWNLOAD, target_id=str(study["id"]))
    assert audited.get().detail == {"position": 1, "label": second["findings"][0]["label"]}
    listed = client.get("/api/studies/").json()["results"]
    assert [row["image_count"] for row in listed] == [2]
    # The PDF says what the findings of a study of several images are, and which image it shows.
    report = " ".join(pdf_text(client.get(f"/api/studies/{study['id']}/report/?labels=")).split())
    assert "This study holds 2 images. Its findings are the mean of the probabilities of its 2" in report


def test_with_a_card_naming_max_the_study_findings_are_the_max(
    clinician, client_for, upload_images, settings, monkeypatch, max_rule_weights
):
    settings.CXR_WEIGHTS = str(max_rule_weights)
    # This process's pipeline is built again from the installed weights, as a restarted worker's is.
    monkeypatch.setattr(inference, "_pipeline", None)

    study = two_image_study(client_for(clinician), upload_images)

    assert study["aggregation"] == {"rule": "max", "images": 2}
    assert_study_findings_are(study, max)


def test_the_same_images_again_are_answered_from_the_cache_with_the_same_aggregate(
    clinician, client_for, upload_images
):
    client = client_for(clinician)
    first = two_image_study(client, upload_images)
    again = upload_images(client, [(name, nih(name)) for name in TWO_RADIOGRAPHS])
    assert again.status_code == 201, again.content
    cached = client.get(f"/api/studies/{again.json()['id']}/").json()
    assert cached["cached"] is True
    assert [f["probability"] for f in cached["findings"]] == [f["probability"] for f in first["findings"]]


def test_a_one_image_study_has_one_image_whose_findings_are_the_study_findings(analysed_study):
    image = analysed_study.images.get()
    assert (image.position, image.view, image.analysed) == (0, "frontal", True)
    assert (image.original_file.name, image.display_file.name, image.heatmaps_file.name) == (
        analysed_study.key_image.original_file.name,
        analysed_study.key_image.display_file.name,
        analysed_study.key_image.heatmaps_file.name,
    )
    as_rows = lambda findings: sorted(  # noqa: E731
        (f.label, f.probability, f.threshold, f.positive, f.calibrated_score) for f in findings
    )
    assert as_rows(analysed_study.findings.all()) == as_rows(image.findings.all())


def test_a_dicom_lateral_beside_its_frontal_is_stored_de_identified_and_not_analysed(
    clinician, client_for, upload_images
):
    client = client_for(clinician)
    lateral = dicom_with(ViewPosition="LL", SOPInstanceUID=generate_uid())
    created = upload_images(client, [("lateral.dcm", lateral), ("frontal.dcm", FRONTAL_DICOM.read_bytes())])
    assert created.status_code == 202, created.content
    studies_analyze(study_id=created.json()["id"], claimant="test")
    study = client.get(f"/api/studies/{created.json()['id']}/").json()

    assert study["status"] == "done", study["message"]
    lateral_image, frontal_image = study["images"]
    assert lateral_image["view"] == "lateral" and lateral_image["analysed"] is False
    assert lateral_image["not_analysed_reason"] == NOT_ANALYSED_LATERAL
    assert lateral_image["findings"] == [] and lateral_image["screening"] is None
    assert client.get(lateral_image["image"]).status_code == 200
    stored = pydicom.dcmread(Study.objects.get().images.get(position=0).original_file.open("rb"))
    assert stored.ViewPosition == "LL" and stored.PatientName == "" and stored.PatientID == ""
    # The key image is the frontal one, and the study's findings are its findings alone.
    assert study["aggregation"] == {"rule": "mean", "images": 1}
    assert study["original_filename"] == "frontal.dcm"
    own = {f["label"]: f["probability"] for f in frontal_image["findings"]}
    assert {f["label"]: f["probability"] for f in study["findings"]} == pytest.approx(own, abs=1e-12)


def test_a_single_lateral_and_laterals_alone_are_refused(clinician, client_for, upload, upload_images):
    client = client_for(clinician)
    assert_error_shape(upload(client, dicom_with(ViewPosition="LL"), "lateral.dcm"), 422)
    both = upload_images(
        client, [("a.dcm", dicom_with(ViewPosition="LL")), ("b.dcm", dicom_with(ViewPosition="RL"))]
    )
    assert_error_shape(both, 422)
    assert both.json()["extra"]["reason"] == "lateral views only"
    assert not Study.objects.exists() and stored_files() == []


def test_dicom_files_of_different_studies_are_refused_naming_them_and_nothing_is_stored(
    clinician, client_for, upload_images
):
    files = [
        ("first.dcm", FRONTAL_DICOM.read_bytes()),
        ("second.dcm", dicom_with(StudyInstanceUID=generate_uid())),
        ("third.png", nih(TWO_RADIOGRAPHS[0])),
    ]
    response = upload_images(client_for(clinician), files)

    assert_error_shape(response, 400)
    body = response.json()
    assert body["extra"]["studies"] == [["first.dcm"], ["second.dcm"]]
    assert "first.dcm" in body["message"] and "second.dcm" in body["message"]
    assert pydicom.dcmread(FRONTAL_DICOM).StudyInstanceUID not in response.content.decode()
    assert not Study.objects.exists() and not StudyImage.objects.exists() and stored_files() == []


def test_more_files_than_the_cap_are_refused_before_anything_is_read(
    clinician, client_for, upload_images, settings
):
    settings.CXR_MAX_IMAGES_PER_STUDY = 2
    response = upload_images(
        client_for(clinician), [(name, nih(name)) for name in (*TWO_RADIOGRAPHS, TWO_RADIOGRAPHS[0])]
    )
    assert_error_shape(response, 400)
    assert response.json()["extra"] == {"files": 3, "limit": 2}
    assert not Study.objects.exists() and stored_files() == []


def test_one_refused_file_refuses_the_upload_naming_each_refused_file(clinician, client_for, upload_images):
    files = [
        (TWO_RADIOGRAPHS[0], nih(TWO_RADIOGRAPHS[0])),
        ("notes.png", b"not an image at all"),
        ("knee.dcm", dicom_with(BodyPartExamined="KNEE")),
    ]
    response = upload_images(client_for(clinician), files)

    assert_error_shape(response, 415)
    refused = response.json()["extra"]["refused"]
    assert [(entry["filename"], entry["status"]) for entry in refused] == [
        ("notes.png", 415),
        ("knee.dcm", 422),
    ]
    assert refused[1]["reason"] == "not a chest radiograph"
    assert not Study.objects.exists() and not ImageFinding.objects.exists() and stored_files() == []


def test_image_and_images_together_or_neither_are_refused(clinician, client_for):
    client = client_for(clinician)
    radiograph = nih(TWO_RADIOGRAPHS[0])
    both = client.post(
        "/api/studies/",
        {
            "image": SimpleUploadedFile("a.png", radiograph),
            "images": [SimpleUploadedFile("b.png", radiograph)],
        },
        format="multipart",
    )
    assert_error_shape(both, 400)
    assert_error_shape(client.post("/api/studies/", {}, format="multipart"), 400)


def test_an_image_of_someone_elses_study_is_404_like_a_missing_position(
    analysed_study, other_clinician, client_for, clinician
):
    label = analysed_study.findings.first().label
    outsider, owner = client_for(other_clinician), client_for(clinician)
    assert_error_shape(outsider.get(f"/api/studies/{analysed_study.id}/images/0/"), 404)
    assert_error_shape(outsider.get(f"/api/studies/{analysed_study.id}/images/0/heatmaps/{label}/"), 404)
    assert_error_shape(owner.get(f"/api/studies/{analysed_study.id}/images/1/"), 404)
    assert_error_shape(owner.get(f"/api/studies/{analysed_study.id}/images/0/heatmaps/Nothing/"), 404)
    assert owner.get(f"/api/studies/{analysed_study.id}/images/0/heatmaps/{label}/").status_code == 200


def one_pacs_study() -> list[bytes]:
    """The two radiographs as a PACS sends them: DICOM files of one Study Instance UID."""
    shared = generate_uid()
    return [
        png_as_dicom(NIH_DIR / name, study_uid=shared, patient_id="PID-77", accession="ACC-77")
        for name in TWO_RADIOGRAPHS
    ]


def test_two_images_a_pacs_sends_of_one_study_are_analysed_together_once_the_second_arrives(clinician):
    sent = one_pacs_study()
    first = received_image_store(
        received=pacs_received(sent[0]), owner=clinician, protocol=ReceivedProtocol.DIMSE
    )
    studies_analyze(study_id=first.id, claimant="first")
    assert Study.objects.get(pk=first.id).status == "done"

    second = received_image_store(
        received=pacs_received(sent[1]), owner=clinician, protocol=ReceivedProtocol.DIMSE
    )

    assert second.pk == first.pk
    study = Study.objects.get(pk=first.id)
    assert (study.status, study.attempts, study.images.count()) == ("queued", 0, 2)
    studies_analyze(study_id=study.id, claimant="second")
    study.refresh_from_db()
    assert study.status == "done"
    assert ImageFinding.objects.filter(image__study=study).count() == 2 * 14
    assert ReceivedImage.objects.get(study=study).filing_status in ("waiting", "not_sent")


def test_a_result_computed_before_an_image_joined_is_not_stored_and_the_study_waits_again(clinician):
    sent = one_pacs_study()
    study = received_image_store(
        received=pacs_received(sent[0]), owner=clinician, protocol=ReceivedProtocol.DIMSE
    )
    [claimed] = studies_claim(study_id=study.id, claimant="slow-worker", limit=1)
    pipeline = inference.ready_pipeline()
    images = list(claimed.images.all())
    results = pipeline.run(CLASSIFIER, [prepared_input(image, pipeline, kind=CLASSIFIER) for image in images])

    received_image_store(received=pacs_received(sent[1]), owner=clinician, protocol=ReceivedProtocol.DIMSE)
    study_store_results(
        study=claimed, results=list(zip(images, results, strict=True)), threshold_profile=None
    )

    study.refresh_from_db()
    assert study.status == "queued" and not study.findings.exists()
    assert not ImageFinding.objects.filter(image__study=study).exists()


def test_a_ct_series_among_several_files_is_refused_with_nothing_stored(
    clinician, client_for, upload_images, radiograph_bytes
):
    series, _ = shuffled_series_zip(3)
    response = upload_images(client_for(clinician), [("chest.png", radiograph_bytes), ("ct.zip", series)])
    assert_error_shape(response, 400)
    assert response.json()["extra"]["files"] == ["ct.zip"]
    assert Study.objects.count() == 0 and stored_files() == []
