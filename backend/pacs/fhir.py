"""A finished study as a FHIR R4 DiagnosticReport, for an EHR that takes FHIR.

The report contains its Observations (one per classifier finding, then one per analyser result:
pacs.fhir_analysers; coded as in the DICOM SR by pacs.codes) and a Device per model card that made
them (the study's own card, "model", and each analyser's), so it stands alone: an EHR files one
resource. It names no patient: the service keeps studies de-identified, and the EHR that asked
knows whose study it is. Every resource is checked against fhir.resources' models before it leaves.
"""

import base64
import json
import re
from typing import Any

from fhir.resources.R4B.diagnosticreport import DiagnosticReport

from common.errors import DomainError
from deployments.selectors import profile_label
from pacs.analyser_results import study_analyser_outcomes, study_statements
from pacs.codes import (
    CALIBRATED_SCORE,
    CHEST_XRAY_REPORT,
    NOT_A_DIAGNOSIS,
    THRESHOLD,
    finding_code,
    model_statements,
)
from pacs.fhir_analysers import analyser_observation
from pacs.fhir_content import concept, imaging_category, interpretation, probability_quantity
from reports.models import ClinicianReport
from reports.selectors import report_signed
from studies.models import Finding, Study, StudyStatus

DEVICE_ID = "model"
DIAGNOSTIC_SERVICE_URL = "http://terminology.hl7.org/CodeSystem/v2-0074"
WEIGHTS_HASH_URL = "urn:cxr-decision-support:weights-sha256"
# The service's account names (usernames): who signed a report.
PRACTITIONER_SYSTEM = "urn:cxr-decision-support:username"


def study_fhir_report(*, study: Study) -> dict[str, Any]:
    """The study's DiagnosticReport as FHIR JSON; 400 for a study whose analysis is not done."""
    if study.status != StudyStatus.DONE or not study.model_card:
        raise DomainError(
            "A FHIR report can be made once the analysis is done.", extra={"status": study.status}
        )
    card = study.model_card
    findings = list(study.findings.all())
    positives = [finding for finding in findings if finding.positive]
    named = ", ".join(finding.label for finding in positives) or "none"
    devices = {DEVICE_ID: model_device(card, DEVICE_ID)}
    # The findings' verdicts depend on the thresholds: the study's Device says whose they were.
    devices[DEVICE_ID]["property"].append(
        {"type": {"text": "thresholds"}, "valueCode": [{"text": profile_label(study.threshold_profile)}]}
    )
    observations = [finding_observation(finding, study) for finding in findings]
    for outcome in study_analyser_outcomes(study):
        # A CT study's own card is its CT analyser's: one Device for both.
        device_id = DEVICE_ID if outcome.card == card else f"device-{outcome.kind}"
        devices.setdefault(device_id, model_device(outcome.card, device_id))
        observations.append(analyser_observation(study, outcome, device_id))
    statements = " ".join(study_statements(study))
    signed = report_signed(study_id=study.id)
    report = {
        "resourceType": "DiagnosticReport",
        "id": str(study.id),
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{study.id}"}],
        # Preliminary: a model's output waits for a clinician's reading; final once one signed it.
        "status": "final" if signed is not None else "preliminary",
        "category": [{"coding": [{"system": DIAGNOSTIC_SERVICE_URL, "code": "RAD", "display": "Radiology"}]}],
        "code": concept(CHEST_XRAY_REPORT),
        "effectiveDateTime": study.created_at.isoformat(),
        "issued": (study.finished_at or study.created_at).isoformat(),
        "contained": [*devices.values(), *observations],
        "result": [{"reference": f"#{observation['id']}"} for observation in observations],
        "conclusion": f"{statements} Findings above their operating threshold: {named}.",
        "conclusionCode": [concept(finding_code(finding.label)) for finding in positives],
    }
    if signed is not None:
        report |= signed_fields(signed, model_conclusion=report["conclusion"])
    validated = DiagnosticReport.model_validate(report)
    return json.loads(validated.model_dump_json(exclude_none=True))


def signed_fields(signed: ClinicianReport, *, model_conclusion: str) -> dict[str, Any]:
    """What a signed report adds: its signer as performer and interpreter, its impression as the
    conclusion (the model's summary after it), its text as the presented form, its time as issued.

    The clinician is a Practitioner named by a logical reference to the service's account name
    (PRACTITIONER_SYSTEM), never by a person's name or a national identifier: the EHR maps the
    account to its practitioner, as it maps the study to its patient.
    """
    practitioner = {
        "type": "Practitioner",
        "identifier": {"system": PRACTITIONER_SYSTEM, "value": signed.signed_by.username},
        "display": signed.signed_by.username,
    }
    body = f"{signed.text}\n\nImpression: {signed.impression}" if signed.text else signed.impression
    return {
        "issued": signed.signed_at.isoformat(),
        "performer": [practitioner],
        "resultsInterpreter": [practitioner],
        "conclusion": f"{signed.impression} (Model: {model_conclusion})",
        "presentedForm": [
            {
                "contentType": "text/plain; charset=utf-8",
                "language": "en",
                "data": base64.b64encode(body.encode()).decode(),
                "title": f"Clinician's report, version {signed.version}",
                "creation": signed.signed_at.isoformat(),
            }
        ],
    }


def model_device(card: dict[str, Any], device_id: str) -> dict[str, Any]:
    """A model card as a Device: name, version, weights hash and whether it is trained."""
    device: dict[str, Any] = {
        "resourceType": "Device",
        "id": device_id,
        "deviceName": [{"name": card["name"], "type": "model-name"}],
        "version": [{"value": card["version"]}],
        "property": [
            {"type": {"text": "trained"}, "valueCode": [{"text": "true" if card.get("trained") else "false"}]}
        ],
        "note": [{"text": " ".join(model_statements(card))}],
    }
    if card.get("kind"):
        device["type"] = {"text": card["kind"]}
    if card.get("weights_sha256"):
        device["identifier"] = [{"system": WEIGHTS_HASH_URL, "value": card["weights_sha256"]}]
    return device


def finding_observation(finding: Finding, study: Study) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": observation_id(finding),
        "status": "preliminary",
        "category": imaging_category(),
        "code": {**concept(finding_code(finding.label)), "text": finding.label},
        "effectiveDateTime": study.created_at.isoformat(),
        "valueQuantity": probability_quantity(finding.probability),
        "interpretation": interpretation("POS" if finding.positive else "NEG"),
        "component": [
            {"code": concept(THRESHOLD), "valueQuantity": probability_quantity(finding.threshold)},
            {
                "code": concept(CALIBRATED_SCORE),
                "valueQuantity": probability_quantity(finding.calibrated_score),
            },
        ],
        "device": {"reference": f"#{DEVICE_ID}"},
        "note": [{"text": NOT_A_DIAGNOSIS}],
    }


def observation_id(finding: Finding) -> str:
    # FHIR ids allow letters, digits, "-" and "."; labels have underscores.
    return "finding-" + re.sub(r"[^A-Za-z0-9.-]", "-", finding.label)
