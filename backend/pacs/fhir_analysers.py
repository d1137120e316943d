"""The analysers beside the classifier in the FHIR report: one Observation per result, one table
entry per kind (ml.analysers), each pointing at its analyser's Device.

The screener: "Abnormal" with its probability, threshold and POS/NEG. The segmentation: the
cardiothoracic ratio with the heart's and the chest cavity's widths (pixels) and its normal upper
limit, H or N; or, where none was measured, why (an untrained segmentation measures none). The CT
analyser: the patient-level probability of lung involvement, its threshold and POS/NEG.
"""

from collections.abc import Callable
from typing import Any

from ml.ct.analyser import CTResult
from ml.ct.card import CT_KIND
from ml.screener.analyser import SCREENER, ScreenerResult
from ml.segmentation.analyser import SEGMENTATION, SegmentationResult
from pacs.analyser_results import AnalyserOutcome, typed_result
from pacs.codes import (
    ABNORMAL,
    CARDIOTHORACIC_RATIO,
    CHEST_CAVITY,
    CT_INVOLVEMENT,
    DIAMETER,
    HEART,
    NOT_A_DIAGNOSIS,
    THRESHOLD,
    Code,
)
from pacs.fhir_content import (
    UCUM_URL,
    concept,
    imaging_category,
    interpretation,
    probability_quantity,
)
from studies.models import Study

DATA_ABSENT_URL = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
NOT_PERFORMED = "Not Performed"

AnalyserObservation = Callable[[Study, AnalyserOutcome, str], dict[str, Any]]


def observation(study: Study, kind: str, code: Code, device_id: str, **content: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"analyser-{kind}",
        "status": "preliminary",
        "category": imaging_category(),
        "code": {**concept(code), "text": kind},
        "effectiveDateTime": study.created_at.isoformat(),
        **content,
        "device": {"reference": f"#{device_id}"},
        "note": [{"text": NOT_A_DIAGNOSIS}],
    }


def probability_observation(
    study: Study,
    kind: str,
    code: Code,
    device_id: str,
    reading: tuple[float, float, bool],
) -> dict[str, Any]:
    """An analyser's reading (probability of its finding, operating threshold, reached or not) as an
    Observation: the probability, the threshold as a component, POS or NEG."""
    probability, threshold, positive = reading
    return observation(
        study,
        kind,
        code,
        device_id,
        valueQuantity=probability_quantity(probability),
        interpretation=interpretation("POS" if positive else "NEG"),
        component=[{"code": concept(THRESHOLD), "valueQuantity": probability_quantity(threshold)}],
    )


def screener_observation(study: Study, outcome: AnalyserOutcome, device_id: str) -> dict[str, Any]:
    result = typed_result(outcome, ScreenerResult)
    reading = (result.probability, result.threshold, result.likely_abnormal)
    return probability_observation(study, SCREENER, ABNORMAL, device_id, reading)


def segmentation_observation(study: Study, outcome: AnalyserOutcome, device_id: str) -> dict[str, Any]:
    result = typed_result(outcome, SegmentationResult)
    ratio = result.cardiothoracic_ratio
    if ratio is None:
        absent = {"coding": [{"system": DATA_ABSENT_URL, "code": "not-performed", "display": NOT_PERFORMED}]}
        return observation(
            study,
            SEGMENTATION,
            CARDIOTHORACIC_RATIO,
            device_id,
            dataAbsentReason={**absent, "text": result.cardiothoracic_ratio_note or "Not measured."},
        )

    def width(site: Code, pixels: int) -> dict[str, Any]:
        return {
            "code": {**concept(DIAMETER), "text": f"{site.meaning} width"},
            "valueQuantity": {"value": pixels, "unit": "pixels", "system": UCUM_URL, "code": "{pixels}"},
        }

    return observation(
        study,
        SEGMENTATION,
        CARDIOTHORACIC_RATIO,
        device_id,
        valueQuantity={"value": ratio.ratio, "unit": "ratio", "system": UCUM_URL, "code": "{ratio}"},
        interpretation=interpretation("H" if ratio.above_range else "N"),
        referenceRange=[{"high": {"value": ratio.normal_upper_limit, "system": UCUM_URL, "code": "{ratio}"}}],
        component=[width(HEART, ratio.heart_line.width), width(CHEST_CAVITY, ratio.thorax_line.width)],
    )


def ct_observation(study: Study, outcome: AnalyserOutcome, device_id: str) -> dict[str, Any]:
    result = typed_result(outcome, CTResult)
    reading = (result.patient_probability, result.threshold, result.positive)
    return probability_observation(study, CT_KIND, CT_INVOLVEMENT, device_id, reading)


ANALYSER_OBSERVATIONS: dict[str, AnalyserObservation] = {
    SCREENER: screener_observation,
    SEGMENTATION: segmentation_observation,
    CT_KIND: ct_observation,
}


def analyser_observation(study: Study, outcome: AnalyserOutcome, device_id: str) -> dict[str, Any]:
    try:
        build = ANALYSER_OBSERVATIONS[outcome.kind]
    except KeyError:
        raise ValueError(f"The FHIR report has no Observation for analyser {outcome.kind!r}.") from None
    return build(study, outcome, device_id)
