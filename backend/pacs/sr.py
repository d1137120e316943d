"""A study's findings as a DICOM Structured Report following TID 1500 (Measurement Report).

One measurement group per finding: the finding's SNOMED CT code as its finding type, its
probability, threshold and calibrated score as measurements, positive or negative at the threshold
as a qualitative evaluation, the radiograph as its source image, and the model (name, version,
weights hash, trained or not) as the algorithm identification. The "decision support, not a
diagnosis" statement (and the untrained warning) is a comment at the root of the report.
"""

from typing import Any

import highdicom as hd
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes as dicom_codes

from pacs.codes import (
    CALIBRATED_SCORE,
    CHEST_XRAY_PROCEDURE,
    LOCAL_DESIGNATOR,
    LOCAL_SCHEME_NAME,
    NEGATIVE,
    POSITIVE,
    PROBABILITY,
    RESULT_AT_THRESHOLD,
    THRESHOLD,
    Code,
    finding_code,
    model_statements,
)
from pacs.origin import ImageOrigin, derived_uid
from studies.models import Finding, Study

MANUFACTURER = "CXR decision support (open source)"
UNITLESS = hd.sr.CodedConcept("1", "UCUM", "no units")
COMMENT = hd.sr.CodedConcept("121106", "DCM", "Comment")
SR_SERIES_NUMBER = 9901


def coded(code: Code) -> hd.sr.CodedConcept:
    return hd.sr.CodedConcept(code.value, code.designator, code.meaning)


def algorithm_identification(card: dict[str, Any]) -> hd.sr.AlgorithmIdentification:
    return hd.sr.AlgorithmIdentification(
        name=card["name"],
        version=card["version"],
        parameters=[
            f"weights_sha256={card.get('weights_sha256') or 'none'}",
            f"trained={'true' if card.get('trained') else 'false'}",
        ],
    )


def study_structured_report(*, study: Study, origin: ImageOrigin) -> hd.sr.Comprehensive3DSR:
    card = study.model_card or {}
    algorithm = algorithm_identification(card)
    source = hd.sr.SourceImageForMeasurementGroup(
        referenced_sop_class_uid=origin.sop_class_uid,
        referenced_sop_instance_uid=origin.sop_instance_uid,
    )
    groups = [
        finding_group(study, finding, algorithm, source) for finding in study.findings.order_by("label")
    ]
    observer = hd.sr.ObservationContext(
        observer_device_context=hd.sr.ObserverContext(
            observer_type=dicom_codes.DCM.Device,
            observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
                uid=derived_uid(study, f"device:{card.get('name')}:{card.get('version')}"),
                name=card.get("name"),
                manufacturer_name=MANUFACTURER,
                model_name=f"{card.get('name')} {card.get('version')}",
            ),
        )
    )
    report = hd.sr.MeasurementReport(
        observation_context=observer,
        procedure_reported=coded(CHEST_XRAY_PROCEDURE),
        imaging_measurements=groups,
    )
    report[0].ContentSequence.append(
        hd.sr.TextContentItem(
            name=COMMENT,
            value=" ".join(model_statements(card)),
            relationship_type=hd.sr.RelationshipTypeValues.CONTAINS,
        )
    )
    document = hd.sr.Comprehensive3DSR(
        evidence=[origin.reference_dataset()],
        content=report[0],
        series_instance_uid=derived_uid(study, "sr-series"),
        series_number=SR_SERIES_NUMBER,
        sop_instance_uid=derived_uid(study, "sr"),
        instance_number=1,
        manufacturer=MANUFACTURER,
        # A model's output awaits a clinician's reading: complete, but never final or verified.
        is_complete=True,
        is_final=False,
        is_verified=False,
    )
    # UTF-8: the untrained warning has a dash outside ISO 8859-1.
    document.SpecificCharacterSet = "ISO_IR 192"
    document.SeriesDescription = "AI findings (decision support, not a diagnosis)"
    declare_local_scheme(document)
    return document


def finding_group(
    study: Study,
    finding: Finding,
    algorithm: hd.sr.AlgorithmIdentification,
    source: hd.sr.SourceImageForMeasurementGroup,
) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    def measurement(code: Code, value: float) -> hd.sr.Measurement:
        return hd.sr.Measurement(name=coded(code), value=float(value), unit=UNITLESS, algorithm_id=algorithm)

    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=derived_uid(study, f"finding:{finding.label}"), identifier=finding.label
        ),
        finding_type=coded(finding_code(finding.label)),
        algorithm_id=algorithm,
        measurements=[
            measurement(PROBABILITY, finding.probability),
            measurement(THRESHOLD, finding.threshold),
            measurement(CALIBRATED_SCORE, finding.calibrated_score),
        ],
        qualitative_evaluations=[
            hd.sr.QualitativeEvaluation(
                name=coded(RESULT_AT_THRESHOLD), value=coded(POSITIVE if finding.positive else NEGATIVE)
            )
        ],
        source_images=[source],
    )


def declare_local_scheme(document: hd.sr.Comprehensive3DSR) -> None:
    """Name the service's private coding scheme, as DICOM asks of a "99" designator."""
    scheme = Dataset()
    scheme.CodingSchemeDesignator = LOCAL_DESIGNATOR
    scheme.CodingSchemeName = LOCAL_SCHEME_NAME
    scheme.CodingSchemeResponsibleOrganization = MANUFACTURER
    existing = list(document.get("CodingSchemeIdentificationSequence", []))
    document.CodingSchemeIdentificationSequence = [*existing, scheme]
