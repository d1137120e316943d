"""The pieces every measurement group of the study's SR is made of: codes, units, the algorithm's
identification (TID 4019) and the radiograph the group rests on."""

from typing import Any

import highdicom as hd
import numpy as np

from pacs.codes import NEGATIVE, POSITIVE, Code
from pacs.origin import ImageOrigin

# A probability, a threshold or a ratio is a pure number: UCUM's unity.
UNITLESS = hd.sr.CodedConcept("1", "UCUM", "no units")
RATIO = hd.sr.CodedConcept("{ratio}", "UCUM", "ratio")
# Lengths are counted in the radiograph's pixels: a PNG upload has no pixel spacing to give mm.
PIXELS = hd.sr.CodedConcept("{pixels}", "UCUM", "pixels")
# TID 1501's name for a group's qualitative evaluations.
QUALITATIVE_EVALUATIONS = hd.sr.CodedConcept("C0034375", "UMLS", "Qualitative Evaluations")
MEASUREMENT_METHOD = "370129005"


def coded(code: Code) -> hd.sr.CodedConcept:
    return hd.sr.CodedConcept(code.value, code.designator, code.meaning)


def algorithm_identification(
    card: dict[str, Any], *, threshold_profile: str | None = None
) -> hd.sr.AlgorithmIdentification:
    """TID 4019: the model's name, version, and as parameters its weights' hash and trained flag; for
    the classifier also the thresholds' origin (``threshold_profile``: a site profile's identity, or
    ``card``), since the qualitative findings depend on them."""
    parameters = [
        f"weights_sha256={card.get('weights_sha256') or 'none'}",
        f"trained={'true' if card.get('trained') else 'false'}",
    ]
    if threshold_profile is not None:
        parameters.append(f"threshold_profile={threshold_profile}")
    return hd.sr.AlgorithmIdentification(name=card["name"], version=card["version"], parameters=parameters)


def number(
    code: Code, value: float, algorithm: hd.sr.AlgorithmIdentification, unit: hd.sr.CodedConcept = UNITLESS
) -> hd.sr.Measurement:
    return hd.sr.Measurement(name=coded(code), value=float(value), unit=unit, algorithm_id=algorithm)


def result_at_threshold(positive: bool) -> hd.sr.QualitativeEvaluation:
    """Whether the group's finding reached its operating threshold."""
    return hd.sr.QualitativeEvaluation(
        name=QUALITATIVE_EVALUATIONS, value=coded(POSITIVE if positive else NEGATIVE)
    )


def method_as_concept_modifier(group: hd.sr.MeasurementsAndQualitativeEvaluations) -> None:
    """TID 1501 has a group's measurement method modify its concept (HAS CONCEPT MOD); highdicom
    0.28 says it CONTAINS, which pixelmed's SR validator refuses."""
    for item in group[0].ContentSequence:
        if item.ConceptNameCodeSequence[0].CodeValue == MEASUREMENT_METHOD:
            item.RelationshipType = hd.sr.RelationshipTypeValues.HAS_CONCEPT_MOD.value


def source_image(origin: ImageOrigin) -> hd.sr.SourceImageForMeasurementGroup:
    return hd.sr.SourceImageForMeasurementGroup(
        referenced_sop_class_uid=origin.sop_class_uid, referenced_sop_instance_uid=origin.sop_instance_uid
    )


def region_image(origin: ImageOrigin) -> hd.sr.SourceImageForRegion:
    return hd.sr.SourceImageForRegion(
        referenced_sop_class_uid=origin.sop_class_uid, referenced_sop_instance_uid=origin.sop_instance_uid
    )


def polyline(points: np.ndarray | list[list[float]]) -> np.ndarray:
    return np.asarray(points, dtype=np.float32).reshape(-1, 2)


def whole_image_region(origin: ImageOrigin, *, width: int, height: int) -> hd.sr.ImageRegion:
    """The whole image as a group's region: a closed outline along its pixels' outer edges, for a
    result of the image as a whole (the screener's; a finding whose Grad-CAM map points nowhere).

    Every group a viewer draws needs a region: OHIF Viewer (3.13) takes a TID 1500 SR's groups as
    measurements to place on the image by their first coordinates, and one without any
    (``coords[0]`` undefined) stops it placing the rest."""
    corners = [[0, 0], [width, 0], [width, height], [0, height], [0, 0]]
    return hd.sr.ImageRegion(
        graphic_type=hd.sr.GraphicTypeValues.POLYLINE,
        graphic_data=polyline(corners),
        source_image=region_image(origin),
    )
