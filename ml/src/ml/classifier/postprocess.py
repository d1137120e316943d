"""From the network's probabilities to findings: thresholds, positives and calibrated scores.

Every caller (the service, the CLI, evaluation) reads findings from here, so "positive" and the
calibrated score are defined once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ml.classifier.card import ModelCard


@dataclass(frozen=True)
class Finding:
    """One label's answer: its probability, operating threshold and calibrated score."""

    label: str
    probability: float
    threshold: float
    positive: bool
    calibrated_score: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_positive(probability: float, threshold: float) -> bool:
    return probability >= threshold


def calibrated_score(probability: float, threshold: float) -> float:
    """The probability rescaled piecewise-linearly so that the operating threshold maps to 0.5.

    Published thresholds range from 0.0004 to 0.11 (torchxrayvision's NIH weights), so raw
    probabilities of different findings cannot be compared; these scores can, and triage sorts
    by them. [0, threshold] maps onto [0, 0.5] and [threshold, 1] onto [0.5, 1], as
    torchxrayvision's ``op_norm`` does; a probability at its threshold scores exactly 0.5.
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"A threshold must lie in [0, 1], not {threshold}.")
    probability = min(max(float(probability), 0.0), 1.0)
    if probability < threshold:
        return probability / (2.0 * threshold)
    if threshold >= 1.0:
        return 0.5
    return 0.5 + (probability - threshold) / (2.0 * (1.0 - threshold))


def findings_from_probabilities(probabilities: Sequence[float], card: ModelCard) -> tuple[Finding, ...]:
    """The card's labels in order, each with its threshold, positive flag and calibrated score."""
    if len(probabilities) != len(card.labels):
        raise ValueError(f"Expected {len(card.labels)} probabilities, got {len(probabilities)}.")
    findings = []
    for label, value in zip(card.labels, probabilities, strict=True):
        probability = float(value)
        threshold = float(card.thresholds[label])
        findings.append(
            Finding(
                label=label,
                probability=probability,
                threshold=threshold,
                positive=is_positive(probability, threshold),
                calibrated_score=calibrated_score(probability, threshold),
            )
        )
    return tuple(findings)
