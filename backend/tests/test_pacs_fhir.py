"""GET /api/studies/{id}/fhir/: a FHIR R4 DiagnosticReport with one coded Observation per finding."""

import pytest
from fhir.resources.R4B.diagnosticreport import DiagnosticReport

from audit.models import AuditAction, AuditEvent
from ml.labels import CHESTXRAY14_LABELS
from pacs.codes import FINDING_CODES, NOT_A_DIAGNOSIS, SNOMED_SYSTEM_URL, UNTRAINED_WARNING
from tests.factories import StudyFactory, add_findings
from tests.test_auth import assert_error_shape

pytestmark = pytest.mark.django_db

PROBABILITIES = {label: 0.05 + 0.06 * index for index, label in enumerate(CHESTXRAY14_LABELS)}


@pytest.fixture
def finished_study(clinician):
    study = StudyFactory(owner=clinician)
    add_findings(study, PROBABILITIES, threshold=0.5)
    return study


def fhir(client, study):
    return client.get(f"/api/studies/{study.id}/fhir/")


def test_fhir_report_is_a_valid_diagnostic_report_with_one_snomed_coded_observation_per_finding(
    client_for, clinician, finished_study
):
    response = fhir(client_for(clinician), finished_study)

    assert response.status_code == 200, response.content
    report = response.json()
    DiagnosticReport.model_validate(report)
    assert report["resourceType"] == "DiagnosticReport"
    assert report["status"] == "preliminary"
    observations = {r["code"]["text"]: r for r in report["contained"] if r["resourceType"] == "Observation"}
    assert set(observations) == set(CHESTXRAY14_LABELS)
    assert len(report["result"]) == len(CHESTXRAY14_LABELS)
    for label, observation in observations.items():
        coding = observation["code"]["coding"][0]
        assert (coding["system"], coding["code"]) == (SNOMED_SYSTEM_URL, FINDING_CODES[label].value)
        assert observation["valueQuantity"]["value"] == pytest.approx(PROBABILITIES[label])
        threshold, calibrated = observation["component"]
        assert threshold["valueQuantity"]["value"] == 0.5
        assert 0.0 <= calibrated["valueQuantity"]["value"] <= 1.0
        expected = "POS" if PROBABILITIES[label] >= 0.5 else "NEG"
        assert observation["interpretation"][0]["coding"][0]["code"] == expected
        assert observation["device"] == {"reference": "#model"}
    positive_codes = {coding["coding"][0]["code"] for coding in report["conclusionCode"]}
    assert positive_codes == {FINDING_CODES[label].value for label, p in PROBABILITIES.items() if p >= 0.5}


def test_fhir_report_names_the_model_card_and_says_untrained_and_not_a_diagnosis(
    client_for, clinician, finished_study
):
    finished_study.model_card = {**finished_study.model_card, "weights_sha256": "ab" * 32}
    finished_study.save(update_fields=["model_card"])

    report = fhir(client_for(clinician), finished_study).json()

    device = next(r for r in report["contained"] if r["resourceType"] == "Device")
    assert device["deviceName"][0]["name"] == finished_study.model_card["name"]
    assert device["version"][0]["value"] == finished_study.model_card["version"]
    assert device["identifier"][0]["value"] == "ab" * 32
    assert device["property"][0]["valueCode"][0]["text"] == "false"
    assert NOT_A_DIAGNOSIS in report["conclusion"]
    assert UNTRAINED_WARNING in report["conclusion"]


def test_fhir_report_of_someone_elses_study_is_404_and_an_admin_may_read_it(
    client_for, other_clinician, admin_user, finished_study
):
    assert_error_shape(fhir(client_for(other_clinician), finished_study), 404)
    assert fhir(client_for(admin_user), finished_study).status_code == 200


def test_fhir_report_of_an_unfinished_study_is_400(client_for, clinician):
    study = StudyFactory(owner=clinician, status="queued", model_card=None)
    assert_error_shape(fhir(client_for(clinician), study), 400)


def test_fhir_report_download_is_audited(client_for, clinician, finished_study):
    fhir(client_for(clinician), finished_study)

    event = AuditEvent.objects.get(action=AuditAction.REPORT_DOWNLOAD, target_id=str(finished_study.id))
    assert event.actor == clinician
    assert event.detail == {"format": "fhir"}
