"""Findings from probabilities: positives at the threshold, calibrated scores with the threshold at 0.5."""

from __future__ import annotations

import pytest

from ml.classifier.postprocess import calibrated_score, findings_from_probabilities
from ml.classifier.registry import untrained_card


@pytest.mark.parametrize("threshold", [0.0004, 0.02, 0.11, 0.5, 0.9])
def test_calibrated_score_maps_the_threshold_to_one_half_and_keeps_the_ends(threshold):
    assert calibrated_score(threshold, threshold) == pytest.approx(0.5)
    assert calibrated_score(0.0, threshold) == 0.0
    assert calibrated_score(1.0, threshold) == pytest.approx(1.0)
    assert calibrated_score(threshold / 2, threshold) == pytest.approx(0.25)
    assert calibrated_score((1 + threshold) / 2, threshold) == pytest.approx(0.75)


def test_calibrated_scores_rank_findings_by_their_distance_from_threshold_not_raw_probability():
    # torchxrayvision's NIH thresholds differ by two orders of magnitude: a raw 0.05 on a finding
    # whose threshold is 0.0004 is far more suspicious than a raw 0.08 against 0.11.
    assert calibrated_score(0.05, 0.0004) > calibrated_score(0.08, 0.11)
    assert calibrated_score(0.08, 0.11) < 0.5 < calibrated_score(0.05, 0.0004)


def test_calibrated_score_is_monotonic_in_the_probability():
    scores = [calibrated_score(step / 100, 0.03) for step in range(101)]
    assert scores == sorted(scores)


def test_calibrated_score_refuses_a_threshold_outside_the_unit_interval():
    with pytest.raises(ValueError, match="threshold"):
        calibrated_score(0.5, 1.5)


def test_findings_follow_the_cards_labels_with_positive_at_or_above_the_threshold():
    card = untrained_card()
    probabilities = [0.5, 0.49] + [0.1] * (len(card.labels) - 2)
    findings = findings_from_probabilities(probabilities, card)
    assert tuple(finding.label for finding in findings) == card.labels
    assert findings[0].positive and not findings[1].positive
    assert findings[0].calibrated_score == pytest.approx(0.5)
    with pytest.raises(ValueError, match="14 probabilities"):
        findings_from_probabilities([0.1], card)
