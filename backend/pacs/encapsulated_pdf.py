"""The study's PDF report as a DICOM Encapsulated PDF, filed into the radiograph's study."""

from django.utils import timezone
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, EncapsulatedPDFStorage, ExplicitVRLittleEndian

from pacs.origin import ImageOrigin, derived_uid
from pacs.sr import MANUFACTURER
from reports.services import ReportRequest, report_labels, study_report_pdf
from studies.models import Study

PDF_SERIES_NUMBER = 9903
DOCUMENT_TITLE = "Chest radiograph AI report (decision support, not a diagnosis)"


def study_encapsulated_pdf(*, study: Study, origin: ImageOrigin) -> Dataset:
    now = timezone.now()
    pdf = study_report_pdf(
        ReportRequest(
            study=study,
            user=study.owner,
            labels=report_labels(study=study, requested=None),
            generated_at=now,
            metadata=None,
        )
    )
    dataset = origin.reference_dataset()
    del dataset.SOPClassUID, dataset.SOPInstanceUID, dataset.SeriesInstanceUID
    dataset.SpecificCharacterSet = "ISO_IR 192"
    dataset.SOPClassUID = EncapsulatedPDFStorage
    dataset.SOPInstanceUID = derived_uid(study, "pdf")
    dataset.SeriesInstanceUID = derived_uid(study, "pdf-series")
    dataset.SeriesNumber = PDF_SERIES_NUMBER
    dataset.Modality = "DOC"
    dataset.SeriesDescription = "AI report (PDF)"
    dataset.Manufacturer = MANUFACTURER
    dataset.ConversionType = "WSD"
    dataset.InstanceNumber = 1
    local = timezone.localtime(now)
    dataset.ContentDate = local.strftime("%Y%m%d")
    dataset.ContentTime = local.strftime("%H%M%S")
    dataset.AcquisitionDateTime = local.strftime("%Y%m%d%H%M%S")
    # The PDF shows the radiograph, but no patient names or identifiers: none are printed on it.
    dataset.BurnedInAnnotation = "NO"
    dataset.DocumentTitle = DOCUMENT_TITLE
    dataset.ConceptNameCodeSequence = []
    dataset.MIMETypeOfEncapsulatedDocument = "application/pdf"
    source = Dataset()
    source.ReferencedSOPClassUID = origin.sop_class_uid
    source.ReferencedSOPInstanceUID = origin.sop_instance_uid
    dataset.SourceInstanceSequence = [source]
    # The value must have an even length; the PDF is padded with a NUL, which readers ignore.
    dataset.EncapsulatedDocumentLength = len(pdf)
    dataset.EncapsulatedDocument = pdf + (b"\x00" if len(pdf) % 2 else b"")
    dataset.file_meta = file_meta(dataset)
    return dataset


def file_meta(dataset: Dataset) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = dataset.SOPClassUID
    meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    return meta
