"""The segmentation card (cheap, strict) and the untrained analyser on a real radiograph."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ml.errors import WeightsError
from ml.images.radiograph import Radiograph
from ml.segmentation.card import SegmentationCard, describe_segmentation_model


def test_no_weights_describes_the_untrained_unet_without_importing_tensorflow() -> None:
    code = (
        "import sys, json; from ml.segmentation.analyser import describe_segmentation_model; "
        "card = describe_segmentation_model(None); "
        "print(json.dumps([card.to_dict(), 'tensorflow' in sys.modules, 'keras' in sys.modules]))"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    card, tensorflow, keras = json.loads(completed.stdout)
    assert not tensorflow and not keras
    assert card["trained"] is False and card["kind"] == "segmentation"
    assert card["version"].endswith("-untrained-seed0")
    assert card["structures"] == [
        "left_lung",
        "right_lung",
        "heart",
        "left_clavicle",
        "right_clavicle",
        "ribs",
    ]
    assert card["input_size"] == 256 and "CPU" in card["notes"]


def test_cards_round_trip_and_bad_ones_are_refused(tmp_path: Path) -> None:
    card = describe_segmentation_model(None)
    assert SegmentationCard.from_dict(card.to_dict()) == card
    for change, message in (
        ({"kind": "classifier"}, "not a segmentation model"),
        ({"structures": ["heart", "liver"]}, r"structures\[1\] must be one of left_lung"),
        ({"input_size": 250}, "multiple of 32"),
        ({"threshold": 1.5}, "threshold must lie in"),
        ({"colour": "rgb"}, "unknown field"),
    ):
        with pytest.raises(WeightsError, match=message):
            SegmentationCard.from_dict({**card.to_dict(), **change})
    directory = tmp_path / "weights"
    directory.mkdir()
    (directory / "model.weights.h5").write_bytes(b"weights")
    card_dict = {**card.to_dict(), "trained": True, "weights_sha256": "0" * 64}
    (directory / "card.json").write_text(json.dumps(card_dict))
    with pytest.raises(WeightsError, match="changed or replaced after the card was written"):
        describe_segmentation_model(directory)
    with pytest.raises(WeightsError, match="does not exist"):
        describe_segmentation_model(tmp_path / "missing")
    assert SegmentationCard.weights_dir_from_env({"CXR_SEGMENTATION_WEIGHTS": " "}) is None
    assert SegmentationCard.weights_dir_from_env({"CXR_SEGMENTATION_WEIGHTS": "/w"}) == Path("/w")


def test_untrained_analyser_segments_a_real_radiograph_the_same_way_each_load(radiograph: Radiograph) -> None:
    from ml.segmentation.analyser import SegmentationAnalyser

    first = SegmentationAnalyser.load(None, threads=1)
    assert not first.card.trained and first.card.version.endswith("-untrained-seed0")
    tensor = first.prepare(first.card, radiograph)
    assert tensor.shape == (256, 256, 3) and tensor.dtype == np.float32
    (segmentation,) = first.segment(np.stack([tensor]), sizes=[(radiograph.width, radiograph.height)])
    assert segmentation.structures == first.card.structures
    assert segmentation.mask("heart").shape == (radiograph.height, radiograph.width)
    # Seeded: a second analyser (another process, in the service) gives the same masks.
    (again,) = SegmentationAnalyser.load(None).segment(
        tensor[np.newaxis], sizes=[(radiograph.width, radiograph.height)]
    )
    np.testing.assert_array_equal(again.masks, segmentation.masks)


def test_a_directorys_card_is_read_again_when_its_files_change(tmp_path: Path) -> None:
    from ml.cards.files import sha256_file

    directory = tmp_path / "weights"
    directory.mkdir()
    weights = directory / "model.weights.h5"
    weights.write_bytes(b"first weights")
    card = {**describe_segmentation_model(None).to_dict(), "trained": True, "version": "v1"}
    (directory / "card.json").write_text(json.dumps(card))
    first = describe_segmentation_model(directory)
    assert first.version == "v1" and first.weights_sha256 == sha256_file(weights)
    first.architecture["name"] = "changed by a caller"
    assert describe_segmentation_model(directory).architecture["name"] == "unet-efficientnetb0"

    weights.write_bytes(b"other weights, another size")
    (directory / "card.json").write_text(json.dumps({**card, "version": "v2"}))
    second = describe_segmentation_model(directory)
    assert second.version == "v2" and second.weights_sha256 == sha256_file(weights)
