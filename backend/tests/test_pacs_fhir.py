"""GET /api/studies/{id}/fhir/: a FHIR R4 DiagnosticReport with one coded Observation per finding and
per analyser result (screener, cardiothoracic ratio, a CT study's patient-level result), and a Device
per model card, equal to what the API says of the study."""

import pytest
from fhir.resources.R4B.diagnosticreport import DiagnosticReport

from audit.models import AuditAction, AuditEvent
from ml.ct.synthetic import shuffled_series_zip
from ml.labels import CHESTXRAY14_LABELS
from pacs.codes import (
    ABNORMAL,
    CARDIOTHORACIC_RATIO,
    CT_INVOLVEMENT,
    FINDING_CODES,
    NOT_A_DIAGNOSIS,
    SNOMED_SYSTEM_URL,
    UNTRAINED_WARNING,
)
from studies.analysis import studies_analyze
from tests.factories import StudyFactory, add_findings, store_measured_ratio
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


def contained(report: dict, resource_type: str) -> dict[str, dict]:
    return {item["id"]: item for item in report["contained"] if item["resourceType"] == resource_type}


def assert_device_names(device: dict, card: dict) -> None:
    assert device["deviceName"][0]["name"] == card["name"]
    assert device["version"][0]["value"] == card["version"]
    assert device["property"][0]["valueCode"][0]["text"] == ("true" if card["trained"] else "false")


def test_fhir_report_has_an_observation_per_analyser_result_and_a_device_per_card_as_the_api_says(
    analysed_study, clinician, client_for
):
    ratio = store_measured_ratio(analysed_study)
    client = client_for(clinician)
    api = client.get(f"/api/studies/{analysed_study.id}/").json()

    report = fhir(client, analysed_study).json()

    DiagnosticReport.model_validate(report)
    observations = contained(report, "Observation")
    devices = contained(report, "Device")
    assert {reference["reference"] for reference in report["result"]} == {f"#{key}" for key in observations}
    finding_ids = {key for key in observations if key.startswith("finding-")}
    findings = {observations[key]["code"]["text"]: observations[key] for key in finding_ids}
    assert len(findings) == 14
    for finding in api["findings"]:
        observation = findings[finding["label"]]
        assert observation["valueQuantity"]["value"] == pytest.approx(finding["probability"], abs=1e-6)
        assert observation["device"] == {"reference": "#model"}
    assert set(observations) - finding_ids == {
        "analyser-screener",
        "analyser-segmentation",
    }

    screener = observations["analyser-screener"]
    assert screener["code"]["coding"][0]["code"] == ABNORMAL.value
    assert screener["valueQuantity"]["value"] == pytest.approx(api["screener"]["probability"], abs=1e-6)
    assert screener["component"][0]["valueQuantity"]["value"] == pytest.approx(api["screener"]["threshold"])
    expected = "POS" if api["screener"]["likely_abnormal"] else "NEG"
    assert screener["interpretation"][0]["coding"][0]["code"] == expected

    measured = observations["analyser-segmentation"]
    assert measured["code"]["coding"][0]["code"] == CARDIOTHORACIC_RATIO.value
    ratio_api = api["segmentation"]["cardiothoracic_ratio"]
    assert measured["valueQuantity"]["value"] == ratio_api["ratio"] == 0.5625
    assert measured["valueQuantity"]["code"] == "{ratio}"
    assert measured["interpretation"][0]["coding"][0]["code"] == "H"
    assert [component["valueQuantity"]["value"] for component in measured["component"]] == [
        ratio.heart_line.width,
        ratio.thorax_line.width,
    ]

    assert set(devices) == {"model", "device-screener", "device-segmentation"}
    assert_device_names(devices["model"], api["model"])
    assert_device_names(devices["device-screener"], api["screener"]["analyser"])
    assert_device_names(devices["device-segmentation"], api["segmentation"]["analyser"])
    assert screener["device"] == {"reference": "#device-screener"}
    assert measured["device"] == {"reference": "#device-segmentation"}
    # The classifier and the screener are untrained; the segmentation's card was made trained above.
    cards = (
        (api["model"], True),
        (api["screener"]["analyser"], True),
        (api["segmentation"]["analyser"], False),
    )
    for card, untrained in cards:
        assert (f"{card['name']}: {UNTRAINED_WARNING}" in report["conclusion"]) is untrained
    assert NOT_A_DIAGNOSIS in report["conclusion"]


def test_fhir_report_of_an_untrained_segmentation_says_why_it_gives_no_ratio(
    analysed_study, clinician, client_for
):
    client = client_for(clinician)
    segmentation = client.get(f"/api/studies/{analysed_study.id}/").json()["segmentation"]
    note = segmentation["cardiothoracic_ratio_note"]

    measured = contained(fhir(client, analysed_study).json(), "Observation")["analyser-segmentation"]

    assert "valueQuantity" not in measured
    assert measured["dataAbsentReason"]["coding"][0]["code"] == "not-performed"
    assert measured["dataAbsentReason"]["text"] == note and "untrained" in note


def test_fhir_report_of_a_ct_study_carries_its_patient_level_result_and_the_ct_models_device(
    clinician, client_for, upload
):
    client = client_for(clinician)
    created = upload(client, shuffled_series_zip(3)[0], "series.zip")
    assert created.status_code == 202, created.content
    studies_analyze(study_id=created.json()["id"], claimant="test")
    api = client.get(f"/api/studies/{created.json()['id']}/").json()
    assert api["ct"]["status"] == "done"

    response = client.get(f"/api/studies/{api['id']}/fhir/")

    assert response.status_code == 200, response.content
    report = response.json()
    DiagnosticReport.model_validate(report)
    observations = contained(report, "Observation")
    assert set(observations) == {"analyser-ct"}
    ct = observations["analyser-ct"]
    assert ct["code"]["coding"][0]["code"] == CT_INVOLVEMENT.value
    assert ct["valueQuantity"]["value"] == pytest.approx(api["ct"]["patient_probability"], abs=1e-6)
    assert ct["component"][0]["valueQuantity"]["value"] == pytest.approx(api["ct"]["threshold"])
    assert ct["interpretation"][0]["coding"][0]["code"] == ("POS" if api["ct"]["positive"] else "NEG")
    (device,) = contained(report, "Device").values()
    assert ct["device"] == {"reference": f"#{device['id']}"}
    assert_device_names(device, api["ct"]["analyser"])
    assert f"{api['ct']['analyser']['name']}: {UNTRAINED_WARNING}" in report["conclusion"]
