"""A study's results as a DICOM Structured Report following TID 1500 (Measurement Report).

Measurement groups: one per classifier finding (pacs.sr_findings: its probability, threshold and
calibrated score, and the image region its Grad-CAM map points at), then each analyser's
(pacs.sr_analysers: the screener's result, the cardiothoracic ratio with its lines, a CT study's
patient-level result), each group with its model's identification (TID 4019: name, version,
weights hash, trained or not) and the image it rests on. Every group of a radiograph carries
image coordinates (a region, or the ratio's lines), which a viewer needs to show it. The "decision
support, not a diagnosis" statement and each untrained model's warning are comments at the root of
the report.
"""

import highdicom as hd
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes as dicom_codes

from pacs.analyser_results import study_analyser_outcomes, study_statements
from pacs.codes import IMAGING_PROCEDURE, LOCAL_DESIGNATOR, LOCAL_SCHEME_NAME
from pacs.origin import ImageOrigin, derived_uid
from pacs.sr_analysers import analyser_groups
from pacs.sr_content import coded
from pacs.sr_findings import finding_groups
from studies.models import Study

MANUFACTURER = "CXR decision support (open source)"
COMMENT = hd.sr.CodedConcept("121106", "DCM", "Comment")
SR_SERIES_NUMBER = 9901


def study_structured_report(*, study: Study, origin: ImageOrigin) -> hd.sr.Comprehensive3DSR:
    card = study.model_card or {}
    groups = [
        *finding_groups(study=study, origin=origin),
        *analyser_groups(study=study, outcomes=study_analyser_outcomes(study), origin=origin),
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
        procedure_reported=coded(IMAGING_PROCEDURE),
        imaging_measurements=groups,
    )
    for statement in study_statements(study):
        report[0].ContentSequence.append(
            hd.sr.TextContentItem(
                name=COMMENT, value=statement, relationship_type=hd.sr.RelationshipTypeValues.CONTAINS
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


def declare_local_scheme(document: hd.sr.Comprehensive3DSR) -> None:
    """Name the service's private coding scheme, as DICOM asks of a "99" designator."""
    scheme = Dataset()
    scheme.CodingSchemeDesignator = LOCAL_DESIGNATOR
    scheme.CodingSchemeName = LOCAL_SCHEME_NAME
    scheme.CodingSchemeResponsibleOrganization = MANUFACTURER
    existing = list(document.get("CodingSchemeIdentificationSequence", []))
    document.CodingSchemeIdentificationSequence = [*existing, scheme]
