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
from django.utils import timezone
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes as dicom_codes

from pacs.analyser_results import study_analyser_outcomes, study_statements
from pacs.codes import IMAGING_PROCEDURE, LOCAL_DESIGNATOR, LOCAL_SCHEME_NAME
from pacs.origin import ImageOrigin, derived_uid
from pacs.sr_analysers import analyser_groups
from pacs.sr_content import coded
from pacs.sr_findings import finding_groups
from reports.models import ClinicianReport
from reports.selectors import report_signed
from studies.models import Study

MANUFACTURER = "CXR decision support (open source)"
COMMENT = hd.sr.CodedConcept("121106", "DCM", "Comment")
SR_SERIES_NUMBER = 9901
VERIFYING_ORGANIZATION = "Reading clinician (CXR decision support)"


def observer_name(signed: ClinicianReport) -> str:
    # A person name of one component (the trailing caret says so); DICOM caps it at 64 characters.
    return f"{signed.signed_by.username[:63]}^"


def signed_comment(signed: ClinicianReport) -> str:
    """The signed report's words, in the SR beside the model's statements."""
    text = f" Report: {signed.text}" if signed.text else ""
    return f"Clinician's impression (report version {signed.version}, signed): {signed.impression}.{text}"


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
    signed = report_signed(study_id=study.pk)
    comments = study_statements(study)
    if signed is not None:
        comments.append(signed_comment(signed))
    for statement in comments:
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
        # A model's output awaits a clinician's reading: complete, final and verified only once a
        # clinician has signed the report, who is then its Verifying Observer (by username: the
        # service's pseudonymous account name, no person's name; README "The clinician's report").
        is_complete=True,
        is_final=signed is not None,
        is_verified=signed is not None,
        verifying_observer_name=observer_name(signed) if signed is not None else None,
        verifying_organization=VERIFYING_ORGANIZATION if signed is not None else None,
    )
    if signed is not None:
        # highdicom stamps the time it built the object; the report was verified when signed.
        verifying = document.VerifyingObserverSequence[0]
        verifying.VerificationDateTime = timezone.localtime(signed.signed_at).strftime("%Y%m%d%H%M%S")
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
