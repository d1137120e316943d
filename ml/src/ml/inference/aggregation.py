"""A study's findings from its images' findings, by the rule its model card names.

A study of several frontal images (a follow-up series, two frontal projections) gets one answer
per finding: the images' probabilities aggregated by the card's ``study_aggregation``, "mean"
(as the published multi-view work averages its views) or "max" (the most suspicious image
decides). The card's threshold then applies to the aggregated probability, and the calibrated
score is computed from it, exactly as for one image (``ml.inference.postprocess``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ml.inference.postprocess import Finding, findings_from_probabilities
from ml.weights.card import STUDY_AGGREGATIONS, ModelCard


def aggregate_probabilities(probabilities: np.ndarray, rule: str) -> np.ndarray:
    """One probability per finding from an (images, findings) array, by ``rule`` ("mean" or "max")."""
    if rule not in STUDY_AGGREGATIONS:
        raise ValueError(f"Unknown aggregation rule {rule!r}; use one of {', '.join(STUDY_AGGREGATIONS)}.")
    values = np.asarray(probabilities, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] == 0:
        raise ValueError(f"Expected (images, findings) of at least one image, not shape {values.shape}.")
    return values.max(axis=0) if rule == "max" else values.mean(axis=0)


def aggregate_findings(per_image: Sequence[Sequence[Finding]], card: ModelCard) -> tuple[Finding, ...]:
    """The study's findings, in the card's label order, from each analysed image's findings."""
    if not per_image:
        raise ValueError("A study needs at least one analysed image to aggregate.")
    rows = []
    for findings in per_image:
        by_label = {finding.label: finding.probability for finding in findings}
        missing = [label for label in card.labels if label not in by_label]
        if missing:
            raise ValueError(f"An image has no finding for the label(s) {', '.join(missing)} of the card.")
        rows.append([by_label[label] for label in card.labels])
    aggregated = aggregate_probabilities(np.array(rows), card.study_aggregation)
    return findings_from_probabilities(aggregated.tolist(), card)
