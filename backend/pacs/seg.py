"""The anatomy segmentation's masks as a DICOM Segmentation (SEG), referencing the radiograph.

One binary segment per structure the segmentation found (SNOMED CT anatomy, with laterality as its
modifier), at the radiograph's size, made by the segmentation's model (its name, version, weights
hash and trained flag as the segments' algorithm identification). The radiograph has no frame of
reference (a projection radiograph or a PNG's stand-in), so the SEG lies on its pixels alone.
Each segment's description carries every model's statement: decision support, untrained or not.
"""

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes as dicom_codes

from ml.segmentation.analyser import SEGMENTATION
from pacs.analyser_results import study_statements
from pacs.codes import ANATOMICAL_STRUCTURE, STRUCTURE_CODES
from pacs.origin import ImageOrigin, derived_uid
from pacs.secondary_capture import PATIENT_ORIENTATION
from pacs.sr import MANUFACTURER
from pacs.sr_content import coded
from studies.models import Study, StudyStatus
from studies.segmentation import study_segmentation

SEG_SERIES_NUMBER = 9904


def study_segmentation_object(*, study: Study, origin: ImageOrigin) -> hd.seg.Segmentation | None:
    """The SEG of the study's finished segmentation, or None where it has none."""
    run = study.analyser_runs.filter(kind=SEGMENTATION, status=StudyStatus.DONE).first()
    if run is None or not run.card or not run.result_file:
        return None
    segmentation = study_segmentation(run=run)
    card = run.card
    algorithm = hd.AlgorithmIdentificationSequence(
        name=card["name"],
        family=dicom_codes.DCM.ArtificialIntelligence,
        version=card["version"],
        parameters={
            "weights_sha256": card.get("weights_sha256") or "none",
            "trained": "true" if card.get("trained") else "false",
        },
    )
    statements = " ".join(study_statements(study))
    descriptions = []
    for number, name in enumerate(segmentation.structures, start=1):
        structure, laterality = STRUCTURE_CODES[name]
        description = hd.seg.SegmentDescription(
            segment_number=number,
            segment_label=name,
            segmented_property_category=coded(ANATOMICAL_STRUCTURE),
            segmented_property_type=coded(structure),
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
            algorithm_identification=algorithm,
            tracking_uid=derived_uid(study, f"segment:{name}"),
            tracking_id=name,
        )
        if laterality is not None:
            description.SegmentedPropertyTypeCodeSequence[0].SegmentedPropertyTypeModifierCodeSequence = [
                coded(laterality)
            ]
        description.SegmentDescription = statements
        descriptions.append(description)
    masks = np.stack([segmentation.mask(name) for name in segmentation.structures], axis=-1)
    document = hd.seg.Segmentation(
        source_images=[source_image(origin, width=segmentation.width, height=segmentation.height)],
        pixel_array=masks[np.newaxis].astype(np.uint8),
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=derived_uid(study, "segmentation-series"),
        series_number=SEG_SERIES_NUMBER,
        sop_instance_uid=derived_uid(study, "segmentation"),
        instance_number=1,
        manufacturer=MANUFACTURER,
        manufacturer_model_name=card["name"],
        software_versions=card["version"],
        device_serial_number=card.get("weights_sha256") or "untrained",
        # A structure the model did not find still has its (empty) segment.
        omit_empty_frames=False,
        content_label="ANATOMY",
        content_description="AI anatomy segmentation, not for diagnosis",
    )
    document.SpecificCharacterSet = "ISO_IR 192"
    # Without a frame of reference DICOM asks for the orientation: as the heatmaps' (an upright
    # frontal radiograph, rows to the patient's left, columns to the feet).
    document.PatientOrientation = list(PATIENT_ORIENTATION)
    document.SeriesDescription = "AI anatomy segmentation (decision support, not a diagnosis)"
    return document


def source_image(origin: ImageOrigin, *, width: int, height: int) -> Dataset:
    """The radiograph as the SEG references it: its identifiers and the geometry of its pixels."""
    dataset = origin.reference_dataset()
    dataset.Rows = height
    dataset.Columns = width
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = "MONOCHROME2"
    dataset.BitsAllocated = 8
    dataset.BitsStored = 8
    dataset.HighBit = 7
    dataset.PixelRepresentation = 0
    return dataset
