"""Everything a finished study files back into the hospital's archive, as DICOM objects.

The SR with every analyser's results, one Secondary Capture per finding's heatmap, the anatomy
masks as a SEG (where the segmentation ran) and the PDF report, all in the radiograph's study. A
CT study's result is its SR alone: it has no findings, heatmaps, masks or PDF report.
Their UIDs derive from the study's id and its set of results (pacs.origin.derived_uid): the same
results sent twice double nothing in the PACS, and new results (an image joined the study) are new
objects, which supersede the old ones (pacs.supersede).
"""

from pydicom.dataset import Dataset

from common.errors import DomainError
from pacs.encapsulated_pdf import study_encapsulated_pdf
from pacs.origin import ImageOrigin
from pacs.secondary_capture import finding_secondary_capture
from pacs.seg import study_segmentation_object
from pacs.sr import study_structured_report
from studies.models import ImageKind, Study, StudyStatus


def study_dicom_exports(*, study: Study, origin: ImageOrigin) -> list[Dataset]:
    if study.status != StudyStatus.DONE or not study.model_card:
        raise DomainError(
            "DICOM results can be made once the analysis is done.", extra={"status": study.status}
        )
    report = study_structured_report(study=study, origin=origin)
    if study.key_image.kind == ImageKind.CT:
        return [report]
    findings = list(study.findings.order_by("label"))
    captures = [
        finding_secondary_capture(study=study, finding=finding, origin=origin, instance_number=number)
        for number, finding in enumerate(findings, start=1)
    ]
    segmentation = study_segmentation_object(study=study, origin=origin)
    return [
        report,
        *captures,
        *([segmentation] if segmentation is not None else []),
        study_encapsulated_pdf(study=study, origin=origin),
    ]
