"""The validation figures a model card carries: one schema, checked when a card is read.

``python -m ml train`` writes them (ml.training.cards) from the validation set it held out; an
imported checkpoint has none (``validation: null``). The service shows them to clinicians, so a
card whose figures do not follow this shape is refused rather than shown half-understood:

    {"split": {...}, "images": 812, "patients": 301,
     "mean_auroc": 0.84, "mean_auroc_ci95": [0.82, 0.86],
     "threshold_method": "f1", "best_epoch": {"stage": "finetune", "epoch": 3, "val_mean_auroc": 0.84},
     "findings": {"Cardiomegaly": {"positives": 20, "negatives": 792, "auroc": 0.91,
                                   "auroc_ci95": [0.86, 0.95], "threshold": 0.31,
                                   "threshold_from": "validation", "sensitivity": 0.85,
                                   "specificity": 0.88, "ppv": 0.16, "f1": 0.27}, ...}}

Figures that cannot be computed (a finding without positives in validation) are null.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ml.errors import WeightsError

THRESHOLD_SOURCES = ("validation", "default")


def checked_validation(value: Any, labels: tuple[str, ...]) -> dict[str, Any]:
    """``value`` if it follows the schema for a card with these ``labels``; else WeightsError."""
    if not isinstance(value, dict):
        raise WeightsError("The model card's validation must be a JSON object or null.")
    checked = _fields(value, _SUMMARY_FIELDS, "validation")
    findings = checked["findings"]
    unknown = sorted(set(findings) - set(labels))
    if unknown:
        raise WeightsError(
            f"The model card's validation has figures for unknown labels: {', '.join(unknown)}."
        )
    return checked


def _fields(
    value: dict[str, Any], schema: dict[str, Callable[[str, Any], Any]], where: str
) -> dict[str, Any]:
    """Each field of ``schema`` checked, none missing and none more."""
    unexpected = sorted(set(value) - set(schema))
    if unexpected:
        raise WeightsError(f"The model card's {where} has unknown fields: {', '.join(unexpected)}.")
    missing = sorted(set(schema) - set(value))
    if missing:
        raise WeightsError(f"The model card's {where} lacks: {', '.join(missing)}.")
    return {name: check(f"{where}.{name}", value[name]) for name, check in schema.items()}


def _fraction_or_none(where: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise WeightsError(f"The model card's {where} must be a number or null.")
    if not 0.0 <= value <= 1.0:
        raise WeightsError(f"The model card's {where} must lie in [0, 1], not {value}.")
    return float(value)


def _interval_or_none(where: str, value: Any) -> list[float] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise WeightsError(f"The model card's {where} must be [low, high] or null.")
    low, high = (_fraction_or_none(where, bound) for bound in value)
    if low is None or high is None or low > high:
        raise WeightsError(f"The model card's {where} must be [low, high] with low <= high.")
    return [low, high]


def _count(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise WeightsError(f"The model card's {where} must be a whole number of at least 0.")
    return value


def _text(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise WeightsError(f"The model card's {where} must be a non-empty string.")
    return value


def _threshold(where: str, value: Any) -> float:
    checked = _fraction_or_none(where, value)
    if checked is None:
        raise WeightsError(f"The model card's {where} must be a number in [0, 1].")
    return checked


def _threshold_source(where: str, value: Any) -> str:
    if value not in THRESHOLD_SOURCES:
        raise WeightsError(f"The model card's {where} must be one of {', '.join(THRESHOLD_SOURCES)}.")
    return str(value)


def _record(where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WeightsError(f"The model card's {where} must be a JSON object.")
    return dict(value)


def _best_epoch(where: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    schema = {"stage": _text, "epoch": _count, "val_mean_auroc": _fraction_or_none}
    return _fields(_record(where, value), schema, where)


def _findings(where: str, value: Any) -> dict[str, dict[str, Any]]:
    return {
        _text(where, label): _fields(_record(f"{where}.{label}", entry), _FINDING_FIELDS, f"{where}.{label}")
        for label, entry in _record(where, value).items()
    }


# Each field and the check that reads it (the checks are defined above, the schemas after them).
Check = Callable[[str, Any], Any]
_FINDING_FIELDS: dict[str, Check] = {
    "positives": _count,
    "negatives": _count,
    "auroc": _fraction_or_none,
    "auroc_ci95": _interval_or_none,
    "threshold": _threshold,
    "threshold_from": _threshold_source,
    "sensitivity": _fraction_or_none,
    "specificity": _fraction_or_none,
    "ppv": _fraction_or_none,
    "f1": _fraction_or_none,
}
_SUMMARY_FIELDS: dict[str, Check] = {
    "split": _record,
    "images": _count,
    "patients": _count,
    "mean_auroc": _fraction_or_none,
    "mean_auroc_ci95": _interval_or_none,
    "threshold_method": _text,
    "best_epoch": _best_epoch,
    "findings": _findings,
}
