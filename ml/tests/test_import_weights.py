"""Importing published checkpoints: the engine computes what PyTorch's DenseNet121 computes.

The checkpoints are written from known random arrays in the published files' layouts (a
whole pickled torchxrayvision module, a CheXNet training checkpoint), imported, and the
engine's probabilities and Grad-CAM maps compared with an independent NumPy forward pass
(``densenet_reference``) on a real radiograph.
"""

from __future__ import annotations

import json
from collections import OrderedDict

import numpy as np
import pytest
from conftest import analyze, run_ml
from densenet_reference import forward, random_state
from torch_writer import chexnet_checkpoint, save_checkpoint, torchxrayvision_module

from ml.cards.files import CARD_FILENAME
from ml.classifier.card import ModelCard
from ml.classifier.explanations.gradcam import normalise_maps
from ml.classifier.importers import PUBLISHED_TORCHXRAYVISION, import_checkpoint, read_checkpoint
from ml.classifier.registry import describe_active_model
from ml.errors import WeightsError
from ml.images.preprocessing import PreprocessingSpec, prepare_input
from ml.labels import CHESTXRAY14_LABELS

NIH_FILE = "nih-densenet121-d121-tw-lr001-rot45-tr15-sc15-seed0-best.pt"
TOLERANCE = 1e-4


def _reference(state, card: ModelCard, radiograph):
    """NumPy DenseNet121 on the input the card's preprocessing makes: (probabilities, maps)."""
    spec = PreprocessingSpec.from_dict(card.preprocessing)
    image = prepare_input(radiograph, spec, card.input_channels).tensor.transpose(0, 3, 1, 2)
    features, logits, probabilities = forward(state, image)
    outputs = card.source["label_outputs"]
    weight = state["classifier.weight"].astype(np.float64)
    maps = np.stack(
        [np.maximum(np.tensordot(weight[outputs[label]], features, axes=1), 0) for label in card.labels]
    )
    return {label: probabilities[outputs[label]] for label in card.labels}, normalise_maps(maps), logits


@pytest.mark.parametrize("backend", ["openvino", "keras"])
def test_imported_torchxrayvision_weights_compute_pytorchs_densenet121(
    backend, torchxrayvision_state, torchxrayvision_weights_dir, radiograph
):
    from ml.classifier.engine import InferenceEngine

    engine = InferenceEngine.load(torchxrayvision_weights_dir, backend=backend)
    expected, expected_maps, logits = _reference(torchxrayvision_state, engine.card, radiograph)
    # The comparison means something only where probabilities are not saturated.
    assert np.sum(np.abs(logits) < 4) >= 6, logits
    analysis = analyze(engine, radiograph)
    differences = {
        label: abs(analysis.probabilities[label] - expected[label]) for label in engine.card.labels
    }
    assert max(differences.values()) <= TOLERANCE, differences
    spec = PreprocessingSpec.from_dict(engine.card.preprocessing)
    _, maps = engine.explain(prepare_input(radiograph, spec).tensor)
    assert np.abs(maps[0] - expected_maps).max() <= TOLERANCE


def test_torchxrayvision_card_lists_only_learnt_findings_with_published_thresholds(
    torchxrayvision_weights_dir,
):
    card = describe_active_model(torchxrayvision_weights_dir)
    published = PUBLISHED_TORCHXRAYVISION[NIH_FILE]
    # The four unnamed outputs are dropped; the 14 findings come in ChestX-ray14 order.
    assert card.labels == CHESTXRAY14_LABELS
    assert card.trained is True
    for label in card.labels:
        index = card.source["label_outputs"][label]
        assert published["outputs"][index] == label
        assert card.thresholds[label] == pytest.approx(published["op_threshs"][index])
    assert card.preprocessing == {
        "colour": "greyscale",
        "crop": "centre square",
        "resize": 224,
        "resample": "bilinear",
        "scale": [-1024.0, 1024.0],
    }
    assert card.input_channels == 1
    assert card.source["format"] == "torchxrayvision" and card.source["file"] == NIH_FILE
    assert card.source["outputs_from"] == "torchxrayvision's published table"
    assert len(card.source["outputs"]) == 18 and card.source["sha256"][:12] in card.version


def test_imported_chexnet_weights_compute_pytorchs_densenet121(radiograph, tmp_path):
    from ml.classifier.engine import InferenceEngine

    image = prepare_input(
        radiograph,
        PreprocessingSpec.from_dict(
            {
                "colour": "rgb",
                "crop": "centre square",
                "resize": 224,
                "scale": [0, 1],
                "mean": [0.485, 0.456, 0.406],
                "std": [0.229, 0.224, 0.225],
            }
        ),
        3,
    ).tensor
    state = random_state(5, 3, 14, image.transpose(0, 3, 1, 2))
    checkpoint = save_checkpoint(chexnet_checkpoint(state), tmp_path / "model.pth.tar")
    card = import_checkpoint(checkpoint, "chexnet", tmp_path / "weights")
    assert card.input_channels == 3 and card.preprocessing["colour"] == "rgb"
    assert card.preprocessing["mean"] == [0.485, 0.456, 0.406] and card.preprocessing["std"] == [
        0.229,
        0.224,
        0.225,
    ]
    assert card.labels == CHESTXRAY14_LABELS and set(card.thresholds.values()) == {0.5}
    # CheXNet's output order is not alphabetical: Effusion is its third output.
    assert card.source["label_outputs"]["Effusion"] == 2

    engine = InferenceEngine.load(tmp_path / "weights")
    expected, expected_maps, _ = _reference(state, engine.card, radiograph)
    analysis = analyze(engine, radiograph)
    assert max(abs(analysis.probabilities[label] - expected[label]) for label in card.labels) <= TOLERANCE
    _, maps = engine.explain(image)
    assert np.abs(maps[0] - expected_maps).max() <= TOLERANCE


def test_labels_and_thresholds_stored_in_the_checkpoint_take_precedence(torchxrayvision_state, tmp_path):
    names = ["Atelectasis", "", "Pleural Thickening", "Lung Opacity"] + [""] * 14
    thresholds = np.array([0.2, np.nan, 0.3, 0.4] + [np.nan] * 14)
    module = torchxrayvision_module(torchxrayvision_state, pathologies=names, op_threshs=thresholds)
    path = save_checkpoint(module, tmp_path / "custom.pt")
    imported = read_checkpoint(path, "torchxrayvision")
    assert imported.labels == ("Atelectasis", "Pleural_Thickening", "Lung Opacity")
    assert imported.thresholds == pytest.approx(
        {"Atelectasis": 0.2, "Pleural_Thickening": 0.3, "Lung Opacity": 0.4}
    )
    assert imported.source["label_outputs"] == {"Atelectasis": 0, "Pleural_Thickening": 2, "Lung Opacity": 3}
    head = imported.weights["findings_logits"]
    np.testing.assert_array_equal(head["kernel"], torchxrayvision_state["classifier.weight"][[0, 2, 3]].T)
    # An output with a name but no operating threshold was never trained: it is dropped too.
    thresholds[2] = np.nan
    module = torchxrayvision_module(torchxrayvision_state, pathologies=names, op_threshs=thresholds)
    path = save_checkpoint(module, tmp_path / "custom2.pt", legacy=True)
    assert read_checkpoint(path, "torchxrayvision").labels == ("Atelectasis", "Lung Opacity")


def test_operating_thresholds_can_be_set_on_import(torchxrayvision_state, tmp_path):
    path = save_checkpoint(torchxrayvision_module(torchxrayvision_state), tmp_path / NIH_FILE)
    imported = read_checkpoint(path, "torchxrayvision", thresholds={"Edema": 0.25})
    assert imported.thresholds["Edema"] == 0.25
    assert imported.thresholds["Hernia"] == pytest.approx(0.0004403434)
    with pytest.raises(WeightsError, match="Fracture"):
        read_checkpoint(path, "torchxrayvision", thresholds={"Fracture": 0.25})


def _broken(state, key=None, replacement=None):
    broken = OrderedDict(state)
    if replacement is None:
        del broken[key]
    else:
        broken[key] = replacement
    return broken


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("features.denseblock3.denselayer7.conv2.weight", None),
            r"lacks features\.denseblock3\.denselayer7\.conv2",
        ),
        (
            ("features.transition2.conv.weight", np.zeros((128, 512, 1, 1), np.float32)),
            r"transition2\.conv\.weight has shape \(128, 512, 1, 1\), but DenseNet121 needs \(256, 512",
        ),
        (
            ("features.denseblock4.denselayer17.norm1.weight", np.ones(1024, np.float32)),
            "another architecture",
        ),
        (("classifier.weight", np.zeros((18, 2048), np.float32)), "classifier has shapes"),
    ],
)
def test_wrong_architecture_is_refused_naming_the_key_and_nothing_is_written(
    torchxrayvision_state, tmp_path, change, message
):
    key, replacement = change
    path = save_checkpoint(
        torchxrayvision_module(_broken(torchxrayvision_state, key, replacement)), tmp_path / NIH_FILE
    )
    with pytest.raises(WeightsError, match=message):
        import_checkpoint(path, "torchxrayvision", tmp_path / "weights")
    assert not (tmp_path / "weights").exists()


def test_the_wrong_format_and_unknown_outputs_are_explained(torchxrayvision_state, tmp_path):
    path = save_checkpoint(torchxrayvision_module(torchxrayvision_state), tmp_path / NIH_FILE)
    with pytest.raises(WeightsError, match=r"reads 1 channel.*is the --format right"):
        read_checkpoint(path, "chexnet")
    unknown = save_checkpoint(torchxrayvision_module(torchxrayvision_state), tmp_path / "my-model.pt")
    with pytest.raises(WeightsError, match="--outputs"):
        read_checkpoint(unknown, "torchxrayvision")
    outputs = ["Mass"] + [""] * 17
    assert read_checkpoint(unknown, "torchxrayvision", outputs=outputs).labels == ("Mass",)
    # torchxrayvision's published thresholds belong to its published output order only.
    renamed = read_checkpoint(path, "torchxrayvision", outputs=outputs)
    assert renamed.thresholds == {"Mass": 0.5} and renamed.source["thresholds_from"] == "default 0.5"


def test_import_refuses_a_directory_in_use(torchxrayvision_weights_dir, tmp_path):
    before = (torchxrayvision_weights_dir / CARD_FILENAME).read_text()
    with pytest.raises(WeightsError, match="not an empty directory"):
        import_checkpoint(tmp_path / "whatever.pt", "torchxrayvision", torchxrayvision_weights_dir)
    assert (torchxrayvision_weights_dir / CARD_FILENAME).read_text() == before
    assert json.loads(before)["source"]["format"] == "torchxrayvision"


def test_command_line_import_then_predict_uses_the_imported_findings_and_thresholds(
    torchxrayvision_state, radiograph_path, tmp_path
):
    checkpoint = save_checkpoint(
        torchxrayvision_module(torchxrayvision_state), tmp_path / NIH_FILE, legacy=True
    )
    thresholds = tmp_path / "thresholds.json"
    thresholds.write_text(json.dumps({"Edema": 0.3}))
    result = run_ml(
        "import-weights",
        "--format",
        "torchxrayvision",
        checkpoint,
        "--out",
        tmp_path / "w",
        "--thresholds",
        thresholds,
    )
    assert result.returncode == 0, result.stderr
    assert "14 findings" in result.stdout and "not shown (never learnt): (unnamed)" in result.stdout

    result = run_ml(
        "predict", radiograph_path, "--weights", tmp_path / "w", "--json", "--heatmaps", tmp_path / "maps"
    )
    assert result.returncode == 0, result.stderr
    assert "UNTRAINED" not in result.stderr
    output = json.loads(result.stdout)
    findings = {finding["label"]: finding for finding in output["images"][0]["findings"]}
    assert set(findings) == set(CHESTXRAY14_LABELS)
    assert findings["Edema"]["threshold"] == 0.3
    assert findings["Hernia"]["threshold"] == pytest.approx(0.0004403434)
    assert all(
        finding["positive"] == (finding["probability"] >= finding["threshold"])
        for finding in findings.values()
    )
    assert sorted(path.stem for path in (tmp_path / "maps" / radiograph_path.stem).glob("*.png")) == sorted(
        CHESTXRAY14_LABELS
    )

    result = run_ml(
        "import-weights", "--format", "chexnet", tmp_path / "missing.pth.tar", "--out", tmp_path / "x"
    )
    assert result.returncode == 2 and "does not exist" in result.stderr
