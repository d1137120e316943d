"""A study's findings from its images' findings, by the rule its model card names.

A study of several frontal images (a follow-up series, two frontal projections) gets one answer
per finding: the images' probabilities pooled by the card's ``study_aggregation``, "mean" (as the
published multi-view work averages its views) or "max" (the most suspicious image decides), with
the same pooling as evaluation's (``ml.evaluation.grouping``). The card's threshold then applies to
the aggregated probability, and the calibrated score is computed from it, exactly as for one
image (``ml.classifier.postprocess``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ml.classifier.card import ModelCard
from ml.classifier.postprocess import Finding, findings_from_probabilities
from ml.evaluation.grouping import pool_groups


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
    # All images form one group: the study.
    pooled = pool_groups(np.array(rows), np.zeros(len(rows), dtype=np.int64), 1, card.study_aggregation)
    return findings_from_probabilities(pooled[0].tolist(), card)
