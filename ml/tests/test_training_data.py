"""Training data: ChestX-ray14 folders and label CSVs, splits by patient, loss weights, input pipeline."""

from __future__ import annotations

import csv
import json
import time

import numpy as np
import pytest
from tiny_datasets import build_nih_folder, build_planted_csv, real_images

from ml.cli import main
from ml.errors import DataError
from ml.labels import CHESTXRAY14_LABELS
from ml.training.chestxray14 import EIGHT_CLASS_LABELS, MERGED_INTO_OTHER, read_label_table
from ml.training.datasets import DataOptions, load_training_data


@pytest.fixture(scope="module")
def nih_folder(tmp_path_factory):
    return build_nih_folder(tmp_path_factory.mktemp("nih"), size=72)


def test_chestxray14_folder_uses_train_val_only_and_splits_by_patient(nih_folder):
    data = load_training_data(DataOptions(data=nih_folder.root, val_fraction=0.3, seed=1))
    train, validation = data.train, data.validation
    assert len(train) + len(validation) == len(nih_folder.train_val)
    names = {path.name for path in train.paths + validation.paths}
    assert names == set(nih_folder.train_val) and not names & set(nih_folder.test)
    assert not set(train.groups) & set(validation.groups)
    assert train.label_names == CHESTXRAY14_LABELS
    # Every follow-up of a patient carries the patient's labels.
    table = read_label_table(nih_folder.root / "Data_Entry_2017.csv")
    row = table.images.index(train.paths[0].name)
    np.testing.assert_array_equal(train.labels[0], table.labels[row])
    assert data.record["test_listed"] == len(nih_folder.test)
    assert "split by Patient ID" in data.description
    # The same seed gives the same split, another seed (usually) another one.
    again = load_training_data(DataOptions(data=nih_folder.root, val_fraction=0.3, seed=1))
    assert again.validation.paths == validation.paths and again.fingerprint == data.fingerprint


def test_eight_class_set_merges_the_rare_findings_into_other(nih_folder):
    data = load_training_data(DataOptions(data=nih_folder.root, label_set="8", val_fraction=0.3))
    assert data.train.label_names == EIGHT_CLASS_LABELS
    table = read_label_table(nih_folder.root / "Data_Entry_2017.csv")
    for path, labels in zip(data.train.paths, data.train.labels, strict=True):
        row = table.labels[table.images.index(path.name)]
        rare = any(row[CHESTXRAY14_LABELS.index(label)] for label in MERGED_INTO_OTHER)
        assert labels[-1] == rare
        assert labels[0] == row[CHESTXRAY14_LABELS.index("Atelectasis")]


def test_folder_problems_are_reported(tmp_path, nih_folder):
    with pytest.raises(DataError, match=r"Data_Entry_2017\.csv is missing"):
        load_training_data(DataOptions(data=tmp_path))
    with pytest.raises(DataError, match="neither"):
        load_training_data(DataOptions(data=tmp_path / "nothing"))
    with pytest.raises(DataError, match="None of the"):
        load_training_data(DataOptions(data=nih_folder.root, images=tmp_path))
    bad = tmp_path / "Data_Entry_2017.csv"
    bad.write_text("Image Index,Finding Labels,Patient ID\na.png,Atelectasis|Flu,1\n")
    with pytest.raises(DataError, match=r"line 2: unknown finding 'Flu'"):
        read_label_table(bad)


def test_label_csv_with_patients_and_its_refusals(tmp_path):
    csv_path = build_planted_csv(tmp_path / "planted", size=64, per_image=2)
    data = load_training_data(DataOptions(data=csv_path, val_fraction=0.3))
    assert data.train.label_names == ("Mass", "Nodule")
    assert not set(data.train.groups) & set(data.validation.groups)
    only_mass = load_training_data(DataOptions(data=csv_path, labels=("Mass",), val_fraction=0.3))
    assert only_mass.train.labels.shape[1] == 1

    rows = list(csv.reader(csv_path.open()))
    no_patients = tmp_path / "planted" / "no_patients.csv"
    with no_patients.open("w", newline="") as handle:
        csv.writer(handle).writerows([row[:3] for row in rows])
    with pytest.raises(DataError, match="no patient column"):
        load_training_data(DataOptions(data=no_patients))
    assert len(
        load_training_data(DataOptions(data=no_patients, split_by_image=True, val_fraction=0.3)).validation
    )

    uncertain = tmp_path / "planted" / "uncertain.csv"
    with uncertain.open("w", newline="") as handle:
        csv.writer(handle).writerows([rows[0], [*rows[1][:1], "-1", *rows[1][2:]], *rows[2:]])
    with pytest.raises(DataError, match="uncertain"):
        load_training_data(DataOptions(data=uncertain))
    with pytest.raises(DataError, match="has no label column for 'Effusion'"):
        load_training_data(DataOptions(data=csv_path, labels=("Effusion",)))

    missing = tmp_path / "planted" / "missing.csv"
    with missing.open("w", newline="") as handle:
        csv.writer(handle).writerows([rows[0], ["images/none.png", "1", "0", "p"], *rows[1:]])
    with pytest.raises(DataError, match="do not exist"):
        load_training_data(DataOptions(data=missing))


def test_class_balance_weights_even_out_each_findings_classes():
    from ml.training.losses import ClassBalancedBinaryCrossentropy, class_balance_weights

    labels = np.array([[1, 0, 1], [0, 0, 1], [0, 0, 1], [0, 0, 1]], dtype=np.float32)
    positive, negative = class_balance_weights(labels)
    np.testing.assert_allclose(positive, [2.0, 1.0, 1.0])  # n / 2P; constant columns get 1
    np.testing.assert_allclose(negative, [4 / 6, 1.0, 1.0])  # n / 2N
    # Each finding's weighted positive and negative totals are equal.
    assert positive[0] * 1 == pytest.approx(negative[0] * 3 * 1.0)

    loss = ClassBalancedBinaryCrossentropy(positive, negative)
    logits = np.array([[0.3, -1.0, 2.0]] * 4, dtype=np.float32)
    value = float(np.asarray(loss(labels, logits)))
    p = 1 / (1 + np.exp(-logits))
    manual = -(positive * labels * np.log(p) + negative * (1 - labels) * np.log(1 - p)).mean()
    assert value == pytest.approx(manual, rel=1e-5)


@pytest.mark.parametrize("channels", [1, 3])
def test_imagenet_weights_fold_into_the_first_layer_for_our_input_scaling(tmp_path, channels):
    """Our network on [-1024, 1024] grey equals the ImageNet network on its normalised RGB."""
    import keras

    from ml.classifier.network import build_densenet121
    from ml.classifier.training.initialisation import IMAGENET_MEAN, IMAGENET_STD, load_imagenet_backbone
    from ml.images.preprocessing import PreprocessingSpec, default_preprocessing

    reference = keras.applications.DenseNet121(include_top=False, weights=None, input_shape=(64, 64, 3))
    # Non-trivial normalisation statistics, so that the folded offset is really tested.
    norm = reference.get_layer("conv1_bn")
    gamma, beta, mean, variance = norm.get_weights()
    rng = np.random.default_rng(0)
    norm.set_weights([gamma, beta, rng.normal(size=mean.shape), rng.uniform(0.5, 2, size=variance.shape)])
    path = tmp_path / "imagenet.weights.h5"
    reference.save_weights(path)

    spec = PreprocessingSpec.from_dict(default_preprocessing(64))
    model = build_densenet121(3, channels, 64)
    assert load_imagenet_backbone(model, path, spec) == sum(1 for layer in reference.layers if layer.weights)

    grey = rng.uniform(0, 1, size=(2, 64, 64, 1)).astype(np.float32)
    ours_input = np.repeat(grey * 2048 - 1024, channels, axis=-1)
    imagenet_input = ((np.repeat(grey, 3, axis=-1) - IMAGENET_MEAN) / IMAGENET_STD).astype(np.float32)
    ours = keras.Model(model.input, model.get_layer("conv1_bn").output)(ours_input, training=False)
    theirs = keras.Model(reference.input, reference.get_layer("conv1_bn").output)(
        imagenet_input, training=False
    )
    # Inside the 3-pixel padding border (2 output pixels at stride 2) the two are the same.
    np.testing.assert_allclose(
        np.asarray(ours)[:, 2:-2, 2:-2], np.asarray(theirs)[:, 2:-2, 2:-2], atol=2e-3, rtol=1e-3
    )


def test_input_pipeline_feeds_the_services_tensors_and_augments_within_range():
    from ml.images.decoding import decode_radiograph
    from ml.images.preprocessing import PreprocessingSpec, default_preprocessing, prepare_input
    from ml.training.pipeline import augmenter, make_dataset

    spec = PreprocessingSpec.from_dict(default_preprocessing(64))
    paths = [image.path for image in real_images()[:5]]
    labels = np.eye(5, 2, dtype=np.float32)
    plain = make_dataset(paths, labels, spec=spec, channels=1, batch_size=2, training=False)
    images, batch_labels = next(iter(plain))
    expected = prepare_input(decode_radiograph(paths[0].read_bytes()), spec, 1).tensor[0]
    np.testing.assert_array_equal(np.asarray(images)[0], expected)
    np.testing.assert_array_equal(np.asarray(batch_labels), labels[:2])
    assert [len(batch) for batch, _ in plain] == [2, 2, 1]

    augmented = make_dataset(paths, labels, spec=spec, channels=3, batch_size=5, training=True, seed=3)
    images, _ = next(iter(augmented))
    images = np.asarray(images)
    assert images.shape == (5, 64, 64, 3)
    assert images.min() >= -1024.0 and images.max() <= 1024.0
    assert np.array_equal(images[..., 0], images[..., 2])  # three equal grey channels

    layers = augmenter(spec, seed=3)
    batch = np.asarray(next(iter(plain))[0])
    changed = np.asarray(layers(batch, training=True))
    assert changed.shape == batch.shape and not np.allclose(changed, batch)
    assert changed.min() >= -1024.0 and changed.max() <= 1024.0
    np.testing.assert_array_equal(np.asarray(layers(batch, training=False)), batch)


def test_train_command_refuses_bad_input_before_loading_tensorflow(tmp_path, nih_folder, capsys):
    started = time.monotonic()
    out = tmp_path / "out"
    cases = [
        (["--data", str(tmp_path / "missing")], "neither"),
        (["--data", str(nih_folder.root), "--input-size", "16"], "input_size"),
        (["--data", str(nih_folder.root), "--threshold", "best"], "threshold method"),
        (["--resume"], "no run to resume"),
        ([], "--data is required"),
    ]
    for arguments, message in cases:
        assert main(["train", "--out", str(out), *arguments]) == 2
        error = capsys.readouterr().err
        assert message in error, error
    out.mkdir()
    (out / "card.json").write_text(json.dumps({}))
    assert main(["train", "--out", str(out), "--data", str(nih_folder.root)]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert time.monotonic() - started < 20
