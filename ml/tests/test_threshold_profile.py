"""A site's threshold profile: versioned, bound to one set of weights, applied as the card's thresholds."""

from __future__ import annotations

import dataclasses
import json

import pytest

from ml.classifier.card import untrained_card
from ml.classifier.threshold_profile import ThresholdProfile, profile_write
from ml.errors import DataError, WeightsError

TRAINED = dataclasses.replace(untrained_card(), trained=True, weights_sha256="a" * 64, version="2.0.0")


def test_each_run_writes_the_next_version_and_the_profile_reads_back_equal(tmp_path):
    first = profile_write(
        tmp_path,
        name="site-a",
        card=TRAINED,
        rule="sensitivity ≥ 0.9",
        thresholds={"Mass": 0.31},
        evidence={"cases": 40},
    )
    second = profile_write(
        tmp_path, name="site-a", card=TRAINED, rule="f1", thresholds={"Mass": 0.42}, evidence={"cases": 41}
    )

    assert (first.name, second.name) == ("site-a-v1.json", "site-a-v2.json")
    profile = ThresholdProfile.load(second)
    assert (profile.identity, profile.weights_sha256, profile.thresholds) == (
        "site-a-v2",
        "a" * 64,
        {"Mass": 0.42},
    )
    assert ThresholdProfile.load(first).thresholds == {"Mass": 0.31}


def test_a_profile_applies_its_thresholds_and_so_keys_results_apart_from_the_cards_own(tmp_path):
    profile = ThresholdProfile.load(
        profile_write(tmp_path, name="site", card=TRAINED, rule="f1", thresholds={"Mass": 0.2}, evidence={})
    )

    applied = profile.apply(TRAINED)

    assert applied.thresholds["Mass"] == 0.2 and applied.thresholds["Nodule"] == TRAINED.thresholds["Nodule"]
    assert applied.cache_identity != TRAINED.cache_identity


def test_a_profile_is_refused_for_other_weights_or_the_untrained_model(tmp_path):
    profile = ThresholdProfile.load(
        profile_write(tmp_path, name="site", card=TRAINED, rule="f1", thresholds={"Mass": 0.2}, evidence={})
    )
    other = dataclasses.replace(TRAINED, weights_sha256="b" * 64)

    with pytest.raises(WeightsError, match="was chosen for the weights aaaaaaaaaaaa"):
        profile.apply(other)
    with pytest.raises(WeightsError, match="untrained"):
        profile.apply(untrained_card())
    with pytest.raises(DataError, match="trained weights"):
        profile_write(tmp_path, name="site", card=untrained_card(), rule="f1", thresholds={}, evidence={})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "something-else"}, "Not a threshold profile"),
        ({"thresholds": {"Mass": 1.5}}, r"\[0, 1\]"),
        ({"version": 0}, "positive integer"),
        ({"name": "Site A"}, "lower-case"),
        ({"thresholds": {"Unicorn": 0.5}}, "unknown finding"),
    ],
)
def test_a_doubtful_profile_file_is_refused_with_its_reason(tmp_path, change, message):
    path = profile_write(
        tmp_path, name="site", card=TRAINED, rule="f1", thresholds={"Mass": 0.2}, evidence={}
    )
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}))

    with pytest.raises(WeightsError, match=message):
        ThresholdProfile.load(path).apply(TRAINED)
