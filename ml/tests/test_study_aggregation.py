"""Studies of several images: the card's aggregation rule, the aggregate findings, lateral intake."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pydicom
import pytest
from test_dicom import sample_path, with_tags

from ml.classifier.aggregation import aggregate_findings
from ml.classifier.card import ModelCard
from ml.classifier.postprocess import calibrated_score, findings_from_probabilities
from ml.classifier.registry import untrained_card
from ml.errors import ImageRejectedError, WeightsError
from ml.pipeline import Pipeline


def card_with(rule: str) -> ModelCard:
    return dataclasses.replace(untrained_card(), study_aggregation=rule)


def test_a_card_without_study_aggregation_reads_as_mean_and_writes_it_out():
    fields = untrained_card().to_dict()
    del fields["study_aggregation"]
    card = ModelCard.from_dict(fields)
    assert card.study_aggregation == "mean"
    assert card.to_dict()["study_aggregation"] == "mean"


def test_a_card_naming_max_keeps_it_through_json():
    card = ModelCard.from_dict({**untrained_card().to_dict(), "study_aggregation": "max"})
    assert ModelCard.from_dict(card.to_dict()).study_aggregation == "max"


@pytest.mark.parametrize("rule", ["median", "", None, 1, ["max"]])
def test_a_card_naming_an_unknown_aggregation_is_refused(rule):
    with pytest.raises(WeightsError, match="study_aggregation must be one of mean, max"):
        ModelCard.from_dict({**untrained_card().to_dict(), "study_aggregation": rule})


def test_a_study_without_an_analysed_image_is_refused():
    with pytest.raises(ValueError, match="at least one analysed image"):
        aggregate_findings([], card_with("mean"))


@pytest.mark.parametrize(("rule", "combine"), [("mean", lambda a, b: (a + b) / 2), ("max", max)])
def test_study_findings_are_the_rule_over_images_with_thresholds_applied_after(rule, combine):
    card = card_with(rule)
    rng = np.random.default_rng(3)
    first, second = rng.uniform(0.2, 0.8, len(card.labels)), rng.uniform(0.2, 0.8, len(card.labels))
    per_image = [findings_from_probabilities(first, card), findings_from_probabilities(second, card)]
    # Reversed label order in one image: aggregation goes by label, not by position.
    per_image[1] = tuple(reversed(per_image[1]))

    study = aggregate_findings(per_image, card)

    assert [finding.label for finding in study] == list(card.labels)
    for index, finding in enumerate(study):
        expected = combine(first[index], second[index])
        assert finding.probability == pytest.approx(expected, abs=1e-12)
        assert finding.threshold == card.thresholds[finding.label]
        assert finding.positive == (expected >= finding.threshold)
        assert finding.calibrated_score == pytest.approx(calibrated_score(expected, finding.threshold))


def test_one_image_study_findings_equal_the_image_findings():
    card = card_with("mean")
    findings = findings_from_probabilities(np.linspace(0.05, 0.95, len(card.labels)), card)
    assert aggregate_findings([findings], card) == findings


def test_an_image_missing_a_label_is_refused():
    card = card_with("mean")
    findings = findings_from_probabilities(np.full(len(card.labels), 0.5), card)
    with pytest.raises(ValueError, match="no finding for the label"):
        aggregate_findings([findings, findings[1:]], card)


def test_intake_refuses_a_dicom_lateral_unless_asked_and_then_does_not_screen_it():
    lateral = with_tags(ViewPosition="LL")
    pipeline = Pipeline()
    with pytest.raises(ImageRejectedError, match="frontal") as refusal:
        pipeline.intake(lateral)
    assert refusal.value.reason == "lateral view"

    intake = pipeline.intake(lateral, accept_lateral=True)

    assert intake.lateral and intake.screening is None
    assert intake.radiograph.metadata.view_position == "LL"
    stored = pydicom.dcmread(io.BytesIO(intake.stored_bytes))
    assert stored.PatientName == "" and stored.PatientID == "" and stored.ViewPosition == "LL"
    assert intake.identifying_words  # the patient's name and id were left out


def test_accepting_laterals_changes_nothing_for_a_frontal_dicom():
    data = sample_path().read_bytes()
    pipeline = Pipeline()
    plain, permissive = pipeline.intake(data), pipeline.intake(data, accept_lateral=True)
    assert not permissive.lateral and permissive.screening == plain.screening
    assert np.array_equal(permissive.prepared.inputs["classifier"], plain.prepared.inputs["classifier"])
