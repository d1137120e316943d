"""Everything a finished study files back into the hospital's archive, as DICOM objects.

The SR with the findings, one Secondary Capture per finding's heatmap and the PDF report, all in
the radiograph's study. Their UIDs derive from the study's id and its set of results
(pacs.origin.derived_uid): the same results sent twice double nothing in the PACS, and new results
(an image joined the study) are new objects, which supersede the old ones (pacs.supersede).
"""

from pydicom.dataset import Dataset

from common.errors import DomainError
from pacs.encapsulated_pdf import study_encapsulated_pdf
from pacs.origin import ImageOrigin
from pacs.secondary_capture import finding_secondary_capture
from pacs.sr import study_structured_report
from studies.ct import refuse_ct_export
from studies.models import Study, StudyStatus


def study_dicom_exports(*, study: Study, origin: ImageOrigin) -> list[Dataset]:
    refuse_ct_export(study, "DICOM SR or Secondary Captures")
    if study.status != StudyStatus.DONE or not study.model_card:
        raise DomainError(
            "DICOM results can be made once the analysis is done.", extra={"status": study.status}
        )
    findings = list(study.findings.order_by("label"))
    captures = [
        finding_secondary_capture(study=study, finding=finding, origin=origin, instance_number=number)
        for number, finding in enumerate(findings, start=1)
    ]
    return [
        study_structured_report(study=study, origin=origin),
        *captures,
        study_encapsulated_pdf(study=study, origin=origin),
    ]
