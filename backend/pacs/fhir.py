"""A finished study as a FHIR R4 DiagnosticReport, for an EHR that takes FHIR.

The report contains its Observations (one per finding, coded as in the DICOM SR by pacs.codes) and
a Device that names the model card, so it stands alone: an EHR files one resource. It names no
patient: the service keeps studies de-identified, and the EHR that asked knows whose study it is.
Every resource is checked against fhir.resources' models before it leaves.
"""

import json
import re
from typing import Any

from fhir.resources.R4B.diagnosticreport import DiagnosticReport

from common.errors import DomainError
from pacs.codes import (
    CALIBRATED_SCORE,
    CHEST_XRAY_REPORT,
    NOT_A_DIAGNOSIS,
    THRESHOLD,
    Code,
    finding_code,
    model_statements,
)
from studies.models import Finding, Study, StudyStatus

DEVICE_ID = "model"
UCUM_URL = "http://unitsofmeasure.org"
INTERPRETATION_URL = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CATEGORY_URL = "http://terminology.hl7.org/CodeSystem/observation-category"
DIAGNOSTIC_SERVICE_URL = "http://terminology.hl7.org/CodeSystem/v2-0074"
WEIGHTS_HASH_URL = "urn:cxr-decision-support:weights-sha256"


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
    statements = " ".join(model_statements(card))
    report = {
        "resourceType": "DiagnosticReport",
        "id": str(study.id),
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{study.id}"}],
        # Preliminary: a model's output waits for a clinician's reading; it is never final.
        "status": "preliminary",
        "category": [{"coding": [{"system": DIAGNOSTIC_SERVICE_URL, "code": "RAD", "display": "Radiology"}]}],
        "code": concept(CHEST_XRAY_REPORT),
        "effectiveDateTime": study.created_at.isoformat(),
        "issued": (study.finished_at or study.created_at).isoformat(),
        "contained": [model_device(card), *(finding_observation(finding, study) for finding in findings)],
        "result": [{"reference": f"#{observation_id(finding)}"} for finding in findings],
        "conclusion": f"{statements} Findings above their operating threshold: {named}.",
        "conclusionCode": [concept(finding_code(finding.label)) for finding in positives],
    }
    validated = DiagnosticReport.model_validate(report)
    return json.loads(validated.model_dump_json(exclude_none=True))


def model_device(card: dict[str, Any]) -> dict[str, Any]:
    """The model card as a Device: name, version, weights hash and whether it is trained."""
    device: dict[str, Any] = {
        "resourceType": "Device",
        "id": DEVICE_ID,
        "deviceName": [{"name": card["name"], "type": "model-name"}],
        "version": [{"value": card["version"]}],
        "property": [
            {"type": {"text": "trained"}, "valueCode": [{"text": "true" if card.get("trained") else "false"}]}
        ],
        "note": [{"text": " ".join(model_statements(card))}],
    }
    if card.get("weights_sha256"):
        device["identifier"] = [{"system": WEIGHTS_HASH_URL, "value": card["weights_sha256"]}]
    return device


def finding_observation(finding: Finding, study: Study) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": observation_id(finding),
        "status": "preliminary",
        "category": [{"coding": [{"system": CATEGORY_URL, "code": "imaging", "display": "Imaging"}]}],
        "code": {**concept(finding_code(finding.label)), "text": finding.label},
        "effectiveDateTime": study.created_at.isoformat(),
        "valueQuantity": probability_quantity(finding.probability),
        "interpretation": [
            {
                "coding": [
                    {"system": INTERPRETATION_URL, "code": "POS", "display": "Positive"}
                    if finding.positive
                    else {"system": INTERPRETATION_URL, "code": "NEG", "display": "Negative"}
                ]
            }
        ],
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


def probability_quantity(value: float) -> dict[str, Any]:
    return {"value": round(float(value), 6), "unit": "1", "system": UCUM_URL, "code": "1"}


def concept(code: Code) -> dict[str, Any]:
    return {"coding": [{"system": code.system_url, "code": code.value, "display": code.meaning}]}
