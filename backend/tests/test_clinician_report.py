"""The clinician's report: a draft from the results, edited, signed, amended; final everywhere once signed.

Against the real API and PostgreSQL: the draft's sentences and their sources, saves and the 409 of
a stale version, signing, refusal of edits after signing, amendments as new versions, who may do
what, every step audited; then the PDF (read with pypdf), the FHIR DiagnosticReport, and the DICOM
SR (read with pydicom, checked by dciodvfy) of a signed report, and its re-filing to the PACS.
"""

import io

import pydicom
import pytest
from pypdf import PdfReader

from audit.models import AuditAction, AuditEvent
from common.errors import DomainError
from common.jobs import JobStatus
from pacs.exports import study_dicom_exports
from pacs.models import ReceivedImage
from pacs.origin import stored_origin
from pacs.tasks import file_results
from reports.formatting import percent_pair
from reports.models import ClinicianReport, ReportStatus
from reports.signing import report_sign
from studies.analysis import studies_analyze
from studies.models import Study
from tests import test_pacs_filing
from tests.factories import StudyFactory, UserFactory, add_findings
from tests.test_auth import assert_error_shape
from tests.test_pacs_dicom_in import storescu
from tests.test_pacs_dicom_out import dciodvfy_errors, sr_template_errors

pytestmark = pytest.mark.django_db

PROBABILITIES = {"Cardiomegaly": 0.81, "Effusion": 0.62, "Pneumothorax": 0.4996, "Mass": 0.05}


@pytest.fixture
def study(clinician):
    study = StudyFactory(owner=clinician)
    add_findings(study, PROBABILITIES)
    return study


def url(study, tail: str = "") -> str:
    return f"/api/studies/{study.id}/report/clinician/{tail}"


def save(client, study, version: int, text: str = "Heart enlarged.", impression: str = "Cardiomegaly."):
    return client.put(url(study), {"version": version, "text": text, "impression": impression}, format="json")


def sign(client, study, version: int):
    return client.post(url(study, "sign/"), {"version": version}, format="json")


def signed_study(client, study) -> dict:
    assert save(client, study, 0).status_code == 200
    response = sign(client, study, 1)
    assert response.status_code == 200, response.content
    return response.json()


def report_events(study) -> list[tuple[str, str, int]]:
    return [
        (event.action, event.detail["step"], event.detail["version"])
        for event in AuditEvent.objects.filter(target_id=str(study.id)).order_by("id")
        if event.action in (AuditAction.REPORT_SIGN_OFF, AuditAction.REPORT_AMEND)
    ]


def test_percent_pair_shows_the_digits_that_tell_a_value_from_its_threshold():
    assert percent_pair(0.81, 0.5) == ("81.0%", "50.0%")
    assert percent_pair(0.4996, 0.5) == ("49.96%", "50.00%")
    assert percent_pair(0.5, 0.5) == ("50.0%", "50.0%")
    # torchxrayvision's small thresholds print off zero.
    assert percent_pair(0.0001, 0.0004) == ("0.01%", "0.04%")


def test_the_draft_names_each_finding_above_threshold_with_its_numbers_source_and_untrained_state(
    client_for, clinician, study
):
    response = client_for(clinician).get(url(study))
    assert response.status_code == 200, response.content
    draft = response.json()
    assert (draft["version"], draft["status"], draft["impression"]) == (0, "draft", "")
    assert [item["source"] for item in draft["sentences"]] == [
        {"kind": "finding", "key": "Cardiomegaly"},
        {"kind": "finding", "key": "Effusion"},
    ]
    assert draft["sentences"][0]["text"] == (
        "Cardiomegaly: 81.0% against a threshold of 50.0%, above it (untrained model — not for clinical use)."
    )
    assert all(item["kept"] for item in draft["sentences"])
    assert draft["text"] == "\n".join(item["text"] for item in draft["sentences"])
    # Reading the draft stores nothing.
    assert not ClinicianReport.objects.exists()


def test_the_draft_of_an_analysed_study_says_the_screener_and_the_ratio_with_their_sources(
    client_for, clinician, analysed_study
):
    sentences = client_for(clinician).get(url(analysed_study)).json()["sentences"]
    by_source = {(item["source"]["kind"], item["source"]["key"]): item["text"] for item in sentences}
    assert "Normal/abnormal screener" in by_source[("analyser", "screener")]
    assert "untrained" in by_source[("analyser", "screener")]
    assert by_source[("analyser", "segmentation")].startswith("Cardiothoracic ratio: not measured.")


def test_a_save_stores_version_one_a_stale_version_is_409_and_changes_nothing(client_for, clinician, study):
    client = client_for(clinician)
    response = save(client, study, 0, text="Edited text.\nSecond line.")
    assert response.status_code == 200, response.content
    saved = response.json()
    assert (saved["version"], saved["text"], saved["edited_by"]) == (
        1,
        "Edited text.\nSecond line.",
        clinician.username,
    )
    assert [item["kept"] for item in saved["sentences"]] == [False, False]
    assert save(client, study, 1, text="Again.").json()["text"] == "Again."
    assert_error_shape(save(client, study, 0, text="Stale."), 409)
    assert ClinicianReport.objects.get().text == "Again."
    assert report_events(study) == [
        (AuditAction.REPORT_SIGN_OFF, "draft_saved", 1),
        (AuditAction.REPORT_SIGN_OFF, "draft_saved", 1),
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("text", "bad\x00byte"),
        ("impression", "bell\x07"),
        ("text", "x" * 20_001),
        ("impression", "y" * 5_001),
    ],
)
def test_control_characters_and_overlong_text_are_400_and_store_nothing(
    client_for, clinician, study, field, value
):
    body = {"version": 0, "text": "ok", "impression": "ok", field: value}
    response = client_for(clinician).put(url(study), body, format="json")
    assert_error_shape(response, 400)
    assert not ClinicianReport.objects.exists()


def test_signing_needs_an_impression_and_a_signed_report_refuses_edits_and_a_second_signature(
    client_for, clinician, study
):
    client = client_for(clinician)
    save(client, study, 0, impression="")
    assert_error_shape(sign(client, study, 1), 400)
    save(client, study, 1, impression="Enlarged heart.")
    signed = sign(client, study, 1).json()
    assert (signed["status"], signed["signed_by"]) == ("signed", clinician.username)
    assert signed["signed_at"]
    assert_error_shape(save(client, study, 1, text="Changed after signing."), 409)
    assert_error_shape(sign(client, study, 1), 409)
    assert ClinicianReport.objects.get().impression == "Enlarged heart."
    assert report_events(study)[-1] == (AuditAction.REPORT_SIGN_OFF, "signed", 1)


def test_an_amendment_is_a_new_version_the_signed_one_kept_and_readable_every_step_audited(
    client_for, clinician, study
):
    client = client_for(clinician)
    signed_study(client, study)
    assert_error_shape(client.post(url(study, "amend/"), {"version": 1, "reason": ""}, format="json"), 400)
    opened = client.post(url(study, "amend/"), {"version": 1, "reason": "Effusion missed."}, format="json")
    assert opened.status_code == 201, opened.content
    assert (opened.json()["version"], opened.json()["status"], opened.json()["text"]) == (
        2,
        "draft",
        "Heart enlarged.",
    )
    assert_error_shape(
        client.post(url(study, "amend/"), {"version": 2, "reason": "Again."}, format="json"), 409
    )
    save(client, study, 2, text="Heart enlarged. Small left effusion.", impression="Cardiomegaly, effusion.")
    assert sign(client, study, 2).status_code == 200

    versions = client.get(url(study, "versions/")).json()
    assert [(item["version"], item["status"], item["impression"]) for item in versions] == [
        (1, "signed", "Cardiomegaly."),
        (2, "signed", "Cardiomegaly, effusion."),
    ]
    assert versions[1]["amendment_reason"] == "Effusion missed."
    assert client.get(url(study, "versions/1/")).json()["text"] == "Heart enlarged."
    assert_error_shape(client.get(url(study, "versions/3/")), 404)
    assert report_events(study) == [
        (AuditAction.REPORT_SIGN_OFF, "draft_saved", 1),
        (AuditAction.REPORT_SIGN_OFF, "signed", 1),
        (AuditAction.REPORT_AMEND, "opened", 2),
        (AuditAction.REPORT_AMEND, "draft_saved", 2),
        (AuditAction.REPORT_AMEND, "signed", 2),
    ]


def test_only_the_studys_clinician_or_an_admin_may_write_or_sign(
    client_for, clinician, other_clinician, admin_user, study
):
    other = client_for(other_clinician)
    assert_error_shape(other.get(url(study)), 404)
    assert_error_shape(save(other, study, 0), 404)
    assert not ClinicianReport.objects.exists()
    save(client_for(clinician), study, 0)
    # The service refuses a user who is neither, whatever view calls it.
    with pytest.raises(DomainError) as refused:
        report_sign(study=study, user=UserFactory(), version=1)
    assert refused.value.status_code == 403
    signed = sign(client_for(admin_user), study, 1).json()
    assert signed["signed_by"] == admin_user.username


def test_a_report_of_an_unfinished_study_is_400(client_for, clinician):
    queued = StudyFactory(owner=clinician, status="queued")
    assert_error_shape(client_for(clinician).get(url(queued)), 400)


def pdf_text(client, study) -> str:
    response = client.get(f"/api/studies/{study.id}/report/?labels=")
    assert response.status_code == 200, response.content
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_the_pdf_says_unsigned_then_carries_the_signed_text_impression_verdicts_signer_and_time(
    client_for, clinician, analysed_study
):
    client = client_for(clinician)
    assert "Not signed: no clinician has signed a report of this study yet." in pdf_text(
        client, analysed_study
    )
    label = analysed_study.findings.order_by("label").first().label
    feedback = client.put(
        f"/api/studies/{analysed_study.id}/feedback/{label}/",
        {"verdict": "disagree", "note": "Artefact."},
        format="json",
    )
    assert feedback.status_code == 200, feedback.content
    save(client, analysed_study, 0, text="Lungs clear.", impression="No acute disease.")
    signed = sign(client, analysed_study, 1).json()

    text = " ".join(pdf_text(client, analysed_study).split())
    assert "Not signed" not in text
    assert "Impression: No acute disease." in text
    assert "Lungs clear." in text
    assert f"{label.replace('_', ' ')} Disagree Artefact." in text
    assert f"Signed by {clinician.username} on {signed['signed_at'][:10]}" in text
    assert "version 1" in text


def test_the_fhir_report_is_preliminary_then_final_with_the_clinician_as_performer(
    client_for, clinician, study
):
    client = client_for(clinician)
    before = client.get(f"/api/studies/{study.id}/fhir/").json()
    assert before["status"] == "preliminary"
    assert "performer" not in before
    signed_study(client, study)
    after = client.get(f"/api/studies/{study.id}/fhir/").json()
    assert after["status"] == "final"
    practitioner = {
        "type": "Practitioner",
        "identifier": {"system": "urn:cxr-decision-support:username", "value": clinician.username},
        "display": clinician.username,
    }
    assert after["performer"] == [practitioner]
    assert after["resultsInterpreter"] == [practitioner]
    assert after["conclusion"].startswith("Cardiomegaly. (Model: ")
    assert after["issued"][:19] == ClinicianReport.objects.get().signed_at.isoformat()[:19]


def study_sr(study) -> pydicom.Dataset:
    return next(
        dataset
        for dataset in study_dicom_exports(study=study, origin=stored_origin(study=study))
        if dataset.Modality == "SR"
    )


def test_the_sr_is_unverified_until_signed_then_verified_by_the_clinician_and_passes_dciodvfy_and_pixelmed(
    client_for, clinician, analysed_study, tmp_path
):
    before = study_sr(analysed_study)
    assert (before.CompletionFlag, before.VerificationFlag, before.PreliminaryFlag) == (
        "COMPLETE",
        "UNVERIFIED",
        "PRELIMINARY",
    )
    assert "VerifyingObserverSequence" not in before
    signed_study(client_for(clinician), analysed_study)

    path = tmp_path / "sr.dcm"
    study_sr(analysed_study).save_as(path, enforce_file_format=True)
    after = pydicom.dcmread(path)
    assert (after.CompletionFlag, after.VerificationFlag, after.PreliminaryFlag) == (
        "COMPLETE",
        "VERIFIED",
        "FINAL",
    )
    observer = after.VerifyingObserverSequence[0]
    assert str(observer.VerifyingObserverName) == f"{clinician.username}^"
    signed_at = ClinicianReport.objects.get().signed_at
    assert observer.VerificationDateTime[:8] == signed_at.astimezone().strftime("%Y%m%d")
    # New results, new UIDs: the PACS files the verified SR beside (and, superseding, instead of) the old.
    assert after.SOPInstanceUID != before.SOPInstanceUID
    comments = [item.TextValue for item in after.ContentSequence if item.ValueType == "TEXT"]
    assert any(
        comment.startswith("Clinician's impression (report version 1, signed): Cardiomegaly.")
        for comment in comments
    )
    assert dciodvfy_errors(path) == []
    # The verified SR still passes pixelmed's validator against TID 1500.
    assert sr_template_errors(path) == []
    assert ClinicianReport.objects.get().status == ReportStatus.SIGNED


# The PACS filing's fixtures: the listener, its service account, storescp as the PACS, the origin key.
listener = test_pacs_filing.listener
service_account = test_pacs_filing.service_account
pacs = test_pacs_filing.pacs
origin_key = test_pacs_filing.origin_key
identified_radiograph = test_pacs_filing.identified_radiograph


def test_signing_a_filed_study_files_it_again_with_a_verified_sr_that_names_the_one_it_replaces(
    origin_key,
    listener,
    pacs,
    identified_radiograph,
    client_for,
    admin_user,
    django_capture_on_commit_callbacks,
):
    path, _identifiers = identified_radiograph
    assert storescu(listener, path).returncode == 0
    received_study = Study.objects.get()
    studies_analyze(study_id=received_study.id, claimant="test")
    file_results.apply(args=[str(received_study.id)])
    first = {file.name for file in pacs.iterdir()}
    first_sr = next(
        pydicom.dcmread(pacs / name) for name in first if pydicom.dcmread(pacs / name).Modality == "SR"
    )
    assert first_sr.VerificationFlag == "UNVERIFIED"

    client = client_for(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        signed_study(client, received_study)
    filing = ReceivedImage.objects.get(study=received_study)
    assert filing.status == JobStatus.QUEUED
    file_results.apply(args=[str(received_study.id)])

    filing.refresh_from_db()
    assert filing.status == JobStatus.DONE, filing.message
    new = [pydicom.dcmread(pacs / name) for name in {file.name for file in pacs.iterdir()} - first]
    new_sr = next(dataset for dataset in new if dataset.Modality == "SR")
    assert new_sr.VerificationFlag == "VERIFIED"
    assert str(new_sr.VerifyingObserverSequence[0].VerifyingObserverName) == f"{admin_user.username}^"
    replaced = new_sr.PredecessorDocumentsSequence[0].ReferencedSeriesSequence[0].ReferencedSOPSequence[0]
    assert replaced.ReferencedSOPInstanceUID == first_sr.SOPInstanceUID
    assert "DOC" in {dataset.Modality for dataset in new}
