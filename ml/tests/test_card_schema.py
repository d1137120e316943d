"""The one card schema (ml/src/ml/cards/card.schema.json) and the one base every kind's card shares."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from ml.cards.base import Card, identity_digest
from ml.cards.files import CARD_FILENAME, WEIGHTS_FILENAME, sha256_file
from ml.classifier.card import ModelCard
from ml.classifier.explanations.settings import IG_BASELINES
from ml.classifier.importers import IMAGENET_MEAN, IMAGENET_STD
from ml.ct.card import CTModelCard
from ml.errors import WeightsError
from ml.evaluation.grouping import AGGREGATION_RULES
from ml.images.preprocessing import COLOUR_CHANNELS, RESAMPLING_FILTERS
from ml.screener.card import ARCHITECTURES as SCREENER_ARCHITECTURES
from ml.screener.card import ScreenerCard, screener_preprocessing, untrained_screener_card
from ml.segmentation.card import ARCHITECTURES as SEGMENTATION_ARCHITECTURES
from ml.segmentation.card import SegmentationCard, untrained_unet_card
from ml.segmentation.importer import chestx_det_card
from ml.segmentation.preprocessing import AREA, RESIZES, card_resize
from ml.segmentation.structures import KNOWN_STRUCTURES

# The schema file as the package ships it, read here directly rather than through ml.cards.
SCHEMA_PATH = Path(__file__).parents[1] / "src" / "ml" / "cards" / "card.schema.json"
FIXTURES = Path(__file__).parent / "fixtures"
# card.json files written by the code before the cards shared one base (ml/tests/fixtures/cards).
OLD_CARDS = FIXTURES / "cards"
KINDS: dict[str, type[Card]] = {
    "classifier": ModelCard,
    "segmentation": SegmentationCard,
    "screener": ScreenerCard,
    "ct": CTModelCard,
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator(schema) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def int8_form() -> dict[str, Any]:
    """An accepted int8 form's record, as python -m ml quantize writes it."""
    return {
        "accepted": True,
        "precision": "mixed",
        "files": {"model.int8.xml": "1" * 64, "model.int8.bin": "2" * 64},
        "weights_sha256": "3" * 64,
        "max_abs_probability_difference": 0.004,
        "tolerance": 0.01,
        "calibration_images": 64,
        "held_out_images": 32,
        "float32_layers": ["conv1/conv"],
        "forward_ms": {"f32": 40.1, "int8": 21.7},
        "measured_on": {"cpu": "x86_64", "int8_isa": "avx512_vnni", "openvino": "2026.4.1", "nncf": "3.4.0"},
    }


def cards_the_code_writes() -> list[Card]:
    """A card of every shape this package writes: each kind's untrained one, trained, imported, quantized."""
    # An imported CheXNet: three channels, ImageNet's mean and standard deviation, where it came from.
    imported = dataclasses.replace(
        ModelCard.untrained(),
        trained=True,
        input_channels=3,
        preprocessing={
            **ModelCard.untrained().preprocessing,
            "colour": "rgb",
            "scale": [0.0, 1.0],
            "mean": list(IMAGENET_MEAN),
            "std": list(IMAGENET_STD),
        },
        source={
            "format": "chexnet",
            "file": "model.pth.tar",
            "sha256": "f" * 64,
            "label_outputs": {"Edema": 3},
        },
    )
    old = ModelCard.load(OLD_CARDS / "classifier.json")
    return [
        ModelCard.untrained(),
        old,
        dataclasses.replace(
            old, inference={"forms": {"openvino-int8": int8_form()}, "in_use": "openvino-int8"}
        ),
        imported,
        SegmentationCard.untrained(),
        chestx_det_card(Path("chestx_det.pth"), "b" * 64, None, None),
        dataclasses.replace(
            untrained_unet_card(), preprocessing={**untrained_unet_card().preprocessing, "resize": "area"}
        ),
        ScreenerCard.untrained(),
        dataclasses.replace(
            untrained_screener_card(),
            architecture="elu-cnn",
            input_size=224,
            input_channels=3,
            preprocessing=screener_preprocessing(224, 3),
        ),
        CTModelCard.untrained(),
        CTModelCard(name="ct", version="1", trained=True, weights_sha256="0" * 64, validation={"auroc": 0.8}),
    ]


@pytest.mark.parametrize("card", cards_the_code_writes(), ids=lambda card: f"{card.kind}-{card.name}")
def test_every_card_the_code_writes_validates_against_the_schema_file_and_reads_back(card, validator):
    layout = json.loads(json.dumps(card.to_dict()))
    errors = [error.message for error in validator.iter_errors(layout)]
    assert errors == []
    assert type(card).from_dict(layout) == card


@pytest.mark.parametrize("kind", KINDS)
def test_each_kinds_untrained_card_validates_and_says_untrained(kind, validator):
    card = KINDS[kind].untrained()
    assert validator.is_valid(card.to_dict())
    assert card.kind == kind and card.trained is False and card.version.endswith("-untrained-seed0")
    # The classifier's cards predate kinds: theirs is the only layout without one.
    assert ("kind" in card.to_dict()) is (kind != "classifier")


def test_every_kinds_fields_are_in_the_schema_and_nothing_else(schema):
    base = set(schema["$defs"]["base"]["properties"])
    for kind, card_type in KINDS.items():
        section = set(schema["$defs"][kind]["properties"]) - {"kind"}
        # A field the schema allowed but the card lacked would vanish silently on reading.
        assert base | section == {field.name for field in dataclasses.fields(card_type)}, kind
        assert card_type.ENV_VAR.startswith("CXR_") and kind == card_type.KIND


def test_the_schema_lists_what_the_code_can_run(schema):
    definitions = schema["$defs"]
    segmentation = definitions["segmentation"]["properties"]
    assert segmentation["structures"]["items"]["enum"] == list(KNOWN_STRUCTURES)
    assert segmentation["architecture"]["properties"]["name"]["enum"] == list(SEGMENTATION_ARCHITECTURES)
    assert segmentation["preprocessing"]["properties"]["resize"]["enum"] == list(RESIZES)
    screener = definitions["screener"]
    assert screener["properties"]["architecture"]["enum"] == list(SCREENER_ARCHITECTURES)
    smallest = screener["allOf"][0]["then"]["properties"]["input_size"]["minimum"]
    assert (smallest, screener["properties"]["input_size"]["minimum"]) == (
        SCREENER_ARCHITECTURES["inceptionv3"],
        SCREENER_ARCHITECTURES["elu-cnn"],
    )
    for rules in (
        definitions["classifier"]["properties"]["study_aggregation"],
        definitions["ct"]["properties"]["aggregation"],
    ):
        assert rules["enum"] == list(AGGREGATION_RULES)
    preprocessing = definitions["radiograph_preprocessing"]["properties"]
    assert preprocessing["colour"]["enum"] == list(COLOUR_CHANNELS)
    assert preprocessing["resample"]["enum"] == list(RESAMPLING_FILTERS)
    baseline = definitions["explanations"]["properties"]["integrated_gradients"]["properties"]["baseline"]
    assert baseline["enum"] == list(IG_BASELINES)


def _changed(layout: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``layout`` with the field at the dotted ``path`` set to ``value`` (or removed for ...)."""
    changed = json.loads(json.dumps(layout))
    *parents, last = path.split(".")
    target = changed
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is ...:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return changed


@pytest.mark.parametrize(
    ("fixture", "path", "value", "message"),
    [
        (
            "classifier.json",
            "validation.findings.Cardiomegaly.auroc",
            2,
            r"validation.findings.Cardiomegaly.auroc must lie in \[0, 1\], not 2",
        ),
        (
            "classifier.json",
            "explanations.occlusion.stride",
            "8",
            r"explanations.occlusion.stride must be an integer",
        ),
        (
            "classifier.json",
            "preprocessing.crop",
            "none",
            r'preprocessing.crop must be "centre square", not "none"',
        ),
        ("classifier.json", "labels", ..., r"model card is missing the field\(s\): labels"),
        (
            "segmentation-pspnet.json",
            "preprocessing.std.0",
            0,
            r"segmentation card's preprocessing.std\[0\] must be greater than 0",
        ),
        (
            "segmentation-pspnet.json",
            "architecture.name",
            "fcn",
            r"architecture.name must be one of unet-efficientnetb0, pspnet",
        ),
        (
            "segmentation-pspnet.json",
            "architecture.block_config",
            ...,
            r"architecture is missing the field\(s\): block_config",
        ),
        (
            "segmentation-pspnet.json",
            "preprocessing.resize",
            512,
            r"preprocessing.resize must be one of area, skimage-linear-antialias, not 512",
        ),
        ("screener-elu-cnn.json", "input_channels", 2, r"screener card's input_channels must be one of 1, 3"),
        ("screener-elu-cnn.json", "runtime", "onnx", r'runtime must be "keras", not "onnx"'),
        (
            "screener-elu-cnn.json",
            "weights_sha256",
            "D" * 64,
            r"weights_sha256 must be 64 lower-case hex digits or null",
        ),
        ("ct.json", "window.width", 0, r"CT model card's window.width must be greater than 0, not 0"),
        ("ct.json", "positive_grades", [], r"positive_grades must have at least 1 item"),
        ("ct.json", "training_data", ..., r"CT model card is missing the field\(s\): training_data"),
        ("ct.json", "colour", "rgb", r"CT model card has unknown field\(s\): colour"),
    ],
)
def test_a_malformed_card_is_refused_by_the_schema_and_the_card_naming_the_field(
    fixture, path, value, message, validator
):
    data = _changed(json.loads((OLD_CARDS / fixture).read_text()), path, value)
    assert not validator.is_valid(data)
    card_type = KINDS[data.get("kind", "classifier")]
    with pytest.raises(WeightsError, match=message):
        card_type.from_dict(data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"thresholds": {"Atelectasis": 0.5}}, "thresholds lack the label"),
        (
            {
                "validation": None,
                "inference": {"forms": {"openvino-int8": {**int8_form(), "tolerance": 0.001}}},
            },
            "exceeds",
        ),
        ({"input_size": 320}, r"preprocessing.resize \(224\) differs from its input_size \(320\)"),
    ],
)
def test_rules_between_fields_are_checked_beyond_the_schema(change, message, validator):
    data = {**json.loads((OLD_CARDS / "classifier.json").read_text()), **change}
    assert validator.is_valid(data)
    with pytest.raises(WeightsError, match=message):
        ModelCard.from_dict(data)


def test_a_card_of_another_kind_is_refused_naming_both_kinds():
    screener = untrained_screener_card().to_dict()
    with pytest.raises(WeightsError, match=r"kind is 'screener', not \"segmentation\""):
        SegmentationCard.from_dict(screener)
    with pytest.raises(WeightsError, match=r"kind is 'screener', not \"classifier\""):
        ModelCard.from_dict(screener)
    with pytest.raises(WeightsError, match="must be a JSON object"):
        CTModelCard.from_dict([screener])


def test_cards_written_before_the_one_base_still_load_with_the_same_keys():
    # Each file was written by the code before this base existed, key order and all.
    classifier = ModelCard.load(OLD_CARDS / "classifier.json")
    assert (classifier.study_aggregation, classifier.explanations["occlusion"]["window"]) == ("max", 48)
    older = ModelCard.load(OLD_CARDS / "classifier-before-aggregation.json")
    assert older.study_aggregation == "mean" and older.explanations is None
    # The keys the old code computed for these cards: no prepared input or cached result is lost.
    assert classifier.input_key == "10d929058a957281"
    assert classifier.cache_identity == "densenet121-chestxray14@1.0.0#1d33e7779af16f15"
    assert CTModelCard.load(OLD_CARDS / "ct.json").input_key == "603a74fa0fd6c09a"
    # An old segmentation card names no resize: it reads as the area filter the U-Net is written with now.
    old_unet = SegmentationCard.load(OLD_CARDS / "segmentation-unet-untrained.json")
    now = untrained_unet_card()
    assert card_resize(old_unet.preprocessing) == card_resize(now.preprocessing) == AREA
    without_resize = {name: value for name, value in now.preprocessing.items() if name != "resize"}
    assert old_unet == dataclasses.replace(now, preprocessing=without_resize)
    assert SegmentationCard.load(OLD_CARDS / "segmentation-pspnet.json").architecture["name"] == "pspnet"
    assert ScreenerCard.load(OLD_CARDS / "screener-elu-cnn.json").validation == {"auroc": 0.8}
    # A classifier card may name its kind too.
    assert ModelCard.from_dict({**classifier.to_dict(), "kind": "classifier"}) == classifier


@pytest.mark.parametrize("kind", KINDS)
def test_the_input_key_follows_the_input_and_the_identity_the_weights(kind):
    card = dataclasses.replace(KINDS[kind].untrained(), trained=True, weights_sha256="a" * 64)
    other_weights = dataclasses.replace(card, weights_sha256="b" * 64)
    assert other_weights.input_key == card.input_key
    assert other_weights.cache_identity != card.cache_identity
    bigger = dataclasses.replace(card, input_size=card.input_size + 32)
    assert bigger.input_key != card.input_key
    assert card.input_key == identity_digest({name: card.to_dict()[name] for name in card.INPUT_FIELDS})
    untrained = KINDS[kind].untrained()
    # The untrained weights' hash is only known once built: the identity must not depend on it.
    assert dataclasses.replace(untrained, weights_sha256="c" * 64).cache_identity == untrained.cache_identity


@pytest.mark.parametrize("kind", KINDS)
def test_one_reader_describes_every_kinds_weights_directory(kind, tmp_path):
    card_type = KINDS[kind]
    assert card_type.describe(None) == card_type.untrained()
    (tmp_path / WEIGHTS_FILENAME).write_bytes(b"weights of " + kind.encode())
    card = dataclasses.replace(card_type.untrained(), trained=True, version="1.0.0")
    card.save(tmp_path / CARD_FILENAME)
    described = card_type.describe(tmp_path)
    assert described == dataclasses.replace(card, weights_sha256=sha256_file(tmp_path / WEIGHTS_FILENAME))
    (tmp_path / WEIGHTS_FILENAME).write_bytes(b"other weights, written after the card was")
    described.save(tmp_path / CARD_FILENAME)
    (tmp_path / WEIGHTS_FILENAME).write_bytes(b"and replaced once more")
    with pytest.raises(WeightsError, match="changed or replaced"):
        card_type.describe(tmp_path)
    with pytest.raises(WeightsError, match=f"{kind} weights directory .* does not exist"):
        card_type.describe(tmp_path / "missing")
    assert card_type.weights_dir_from_env({card_type.ENV_VAR: f" {tmp_path} "}) == tmp_path
    assert card_type.weights_dir_from_env({}) is None
