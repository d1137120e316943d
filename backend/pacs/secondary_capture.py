"""A finding's Grad-CAM heatmap blended on the radiograph, as a DICOM Secondary Capture image.

Marked derived and secondary, with a comment that it is a model's attention map and not for
diagnosis, and referencing the radiograph it was computed from.
"""

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from pacs.analyser_results import study_statements
from pacs.origin import ImageOrigin, derived_uid
from pacs.sr import MANUFACTURER
from reports.services import heatmap_overlay
from studies.models import Finding, Study

HEATMAP_SERIES_NUMBER = 9902
# The service takes only upright frontal radiographs: rows run to the patient's left, columns to
# the feet.
PATIENT_ORIENTATION = ("L", "F")


def finding_secondary_capture(
    *, study: Study, finding: Finding, origin: ImageOrigin, instance_number: int
) -> hd.sc.SCImage:
    pixels = np.asarray(heatmap_overlay(study, finding.label).convert("RGB"))
    image = hd.sc.SCImage.from_ref_dataset(
        ref_dataset=origin.reference_dataset(),
        pixel_array=pixels,
        photometric_interpretation="RGB",
        bits_allocated=8,
        coordinate_system="PATIENT",
        series_instance_uid=derived_uid(study, "heatmap-series"),
        series_number=HEATMAP_SERIES_NUMBER,
        sop_instance_uid=derived_uid(study, f"heatmap:{finding.label}"),
        instance_number=instance_number,
        manufacturer=MANUFACTURER,
        patient_orientation=PATIENT_ORIENTATION,
        transfer_syntax_uid=ExplicitVRLittleEndian,
    )
    statements = " ".join(study_statements(study))
    image.SpecificCharacterSet = "ISO_IR 192"
    image.ImageType = ["DERIVED", "SECONDARY"]
    # Type 2C: a chest is not a paired body part, so its laterality is empty.
    image.Laterality = ""
    image.BurnedInAnnotation = "NO"
    image.SeriesDescription = "AI heatmaps (Grad-CAM, not for diagnosis)"
    image.DerivationDescription = f"Grad-CAM heatmap of {finding.label} blended on the radiograph"
    image.ImageComments = f"Model attention map for {finding.label}, not for diagnosis. {statements}"
    source = Dataset()
    source.ReferencedSOPClassUID = origin.sop_class_uid
    source.ReferencedSOPInstanceUID = origin.sop_instance_uid
    image.SourceImageSequence = [source]
    return image
