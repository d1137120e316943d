"""The analysers beside the classifier in the study's SR, one table entry per kind (ml.analysers).

The screener: one group, "Abnormal" with its probability, threshold and whether it reached it, its
region the whole radiograph (the screener reads the image as a whole). The
segmentation: where it measured a cardiothoracic ratio (a trained card), one group with the ratio
and the heart's and the chest cavity's widths, each width inferred from its measurement line drawn
on the radiograph (a SCOORD polyline a viewer shows); its masks go in the SEG (pacs.seg). The CT
analyser: one group on the series (its enhanced CT image, or the service's copy), the patient-level
lung involvement with its probability (by the card's aggregation of the slices'), threshold and
whether it reached it.
"""

from collections.abc import Callable
from typing import Any

import highdicom as hd
import numpy as np

from ml.ct.analyser import CTResult
from ml.ct.card import CT_KIND
from ml.screener.analyser import SCREENER, ScreenerResult
from ml.segmentation.analyser import SEGMENTATION, SegmentationResult
from ml.segmentation.cardiothoracic import MeasurementLine
from pacs.analyser_results import AnalyserOutcome, typed_result
from pacs.codes import (
    ABNORMAL,
    CARDIOTHORACIC_RATIO,
    CHEST_CAVITY,
    CT_INVOLVEMENT,
    DIAMETER,
    HEART,
    PROBABILITY,
    THRESHOLD,
    Code,
)
from pacs.origin import ImageOrigin, derived_uid
from pacs.sr_content import (
    PIXELS,
    RATIO,
    algorithm_identification,
    coded,
    number,
    polyline,
    region_image,
    result_at_threshold,
    source_image,
    whole_image_region,
)
from studies.models import Study

Group = hd.sr.MeasurementsAndQualitativeEvaluations | hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations
AnalyserGroups = Callable[[Study, AnalyserOutcome, ImageOrigin], list[Group]]


def probability_content(
    study: Study, kind: str, finding: Code, card: dict[str, Any], reading: tuple[float, float, bool]
) -> dict[str, Any]:
    """A group's content for an analyser's probability of ``finding`` read at its threshold: the
    probability, the threshold and whether it reached it, with the model's identification."""
    probability, threshold, positive = reading
    algorithm = algorithm_identification(card)
    return {
        "tracking_identifier": hd.sr.TrackingIdentifier(uid=derived_uid(study, kind), identifier=kind),
        "finding_type": coded(finding),
        "algorithm_id": algorithm,
        "measurements": [
            number(PROBABILITY, probability, algorithm),
            number(THRESHOLD, threshold, algorithm),
        ],
        "qualitative_evaluations": [result_at_threshold(positive)],
    }


def screener_groups(study: Study, outcome: AnalyserOutcome, origin: ImageOrigin) -> list[Group]:
    result = typed_result(outcome, ScreenerResult)
    reading = (result.probability, result.threshold, result.likely_abnormal)
    image = study.key_image
    return [
        hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
            **probability_content(study, SCREENER, ABNORMAL, outcome.card, reading),
            referenced_region=whole_image_region(origin, width=image.width, height=image.height),
        )
    ]


def segmentation_groups(study: Study, outcome: AnalyserOutcome, origin: ImageOrigin) -> list[Group]:
    result = typed_result(outcome, SegmentationResult)
    ratio = result.cardiothoracic_ratio
    if ratio is None:
        return []
    algorithm = algorithm_identification(outcome.card)

    def width(site: Code, line: MeasurementLine) -> hd.sr.Measurement:
        return hd.sr.Measurement(
            name=coded(DIAMETER),
            value=float(line.width),
            unit=PIXELS,
            finding_sites=[hd.sr.FindingSite(anatomic_location=coded(site))],
            algorithm_id=algorithm,
            referenced_coordinates=[
                hd.sr.CoordinatesForMeasurement(
                    graphic_type=hd.sr.GraphicTypeValues.POLYLINE,
                    graphic_data=line_outline(line),
                    source_image=region_image(origin),
                )
            ],
        )

    return [
        hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(
                uid=derived_uid(study, "cardiothoracic-ratio"), identifier="cardiothoracic-ratio"
            ),
            algorithm_id=algorithm,
            measurements=[
                number(CARDIOTHORACIC_RATIO, ratio.ratio, algorithm, unit=RATIO),
                width(HEART, ratio.heart_line),
                width(CHEST_CAVITY, ratio.thorax_line),
            ],
            source_images=[source_image(origin)],
        )
    ]


def ct_groups(study: Study, outcome: AnalyserOutcome, origin: ImageOrigin) -> list[Group]:
    result = typed_result(outcome, CTResult)
    reading = (result.patient_probability, result.threshold, result.positive)
    return [
        hd.sr.MeasurementsAndQualitativeEvaluations(
            **probability_content(study, CT_KIND, CT_INVOLVEMENT, outcome.card, reading),
            source_images=[source_image(origin)],
        )
    ]


def line_outline(line: MeasurementLine) -> np.ndarray:
    """A measurement line from the left edge of its first pixel to the right edge of its last, through
    the middle of its row, in DICOM's image coordinates: as long as the width it measures."""
    middle = line.y + 0.5
    return polyline([[line.x_start, middle], [line.x_end + 1, middle]])


ANALYSER_GROUPS: dict[str, AnalyserGroups] = {
    SCREENER: screener_groups,
    SEGMENTATION: segmentation_groups,
    CT_KIND: ct_groups,
}


def analyser_groups(*, study: Study, outcomes: list[AnalyserOutcome], origin: ImageOrigin) -> list[Group]:
    """Every analyser's groups, in kind order; a kind without an entry here is a programming error."""
    groups = []
    for outcome in outcomes:
        try:
            build = ANALYSER_GROUPS[outcome.kind]
        except KeyError:
            raise ValueError(f"The SR has no content for analyser {outcome.kind!r}.") from None
        groups.extend(build(study, outcome, origin))
    return groups
