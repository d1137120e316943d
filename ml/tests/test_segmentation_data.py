"""Segmentation data folders: the JSRT/SCR layout read, patient splits, clear refusals, augmentation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import run_ml
from PIL import Image
from segmentation_datasets import STRUCTURES, write_planted_folder

from ml.errors import DataError
from ml.segmentation.augmentation import augment
from ml.segmentation.data import find_examples, load_arrays


def test_folder_with_gif_masks_is_read_with_its_structures_in_canonical_order(tmp_path: Path) -> None:
    root = write_planted_folder(tmp_path / "data", 6, mask_suffix=".gif")
    data = find_examples(root)
    assert data.structures == ("left_lung", "right_lung", "heart")
    assert [example.image.name for example in data.examples][:2] == ["IMG000.png", "IMG001.png"]
    images, masks = load_arrays(data, 32)
    assert images.shape == (6, 32, 32) and masks.shape == (6, 32, 32, 3)
    assert images.min() >= 0.0 and images.max() <= 1.0 and set(np.unique(masks)) == {0, 1}


def test_patients_csv_keeps_a_patients_images_on_one_side(tmp_path: Path) -> None:
    root = write_planted_folder(tmp_path / "data", 10)
    csv = tmp_path / "patients.csv"
    csv.write_text("image,patient\n" + "".join(f"IMG{i:03d}.png,P{i // 2}\n" for i in range(10)))
    train, validation = find_examples(root, csv).split(0.4, seed=1)
    patients = lambda part: {example.patient for example in part.examples}  # noqa: E731
    assert len(train) + len(validation) == 10 and len(validation) == 4
    assert not patients(train) & patients(validation)


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda root: (root / "masks" / "heart" / "IMG001.png").unlink(), "IMG001.png has no heart mask"),
        (lambda root: (root / "masks" / "liver").mkdir(), "not structures this package knows"),
        (
            lambda root: Image.new("L", (10, 10)).save(root / "masks" / "heart" / "IMG999.png"),
            "mask without an image",
        ),
    ],
)
def test_bad_folders_are_refused_naming_the_file(tmp_path: Path, spoil, message: str) -> None:
    root = write_planted_folder(tmp_path / "data", 3)
    spoil(root)
    with pytest.raises(DataError, match=message):
        find_examples(root)


def test_mask_of_another_size_is_refused_on_loading(tmp_path: Path) -> None:
    root = write_planted_folder(tmp_path / "data", 3)
    Image.new("L", (32, 64)).save(root / "masks" / "left_lung" / "IMG002.png")
    with pytest.raises(DataError, match=r"IMG002.png is 32x64, but its radiograph is 64x64"):
        load_arrays(find_examples(root), 32)


def test_train_segmentation_cli_refuses_a_bad_folder_with_one_line(tmp_path: Path) -> None:
    root = write_planted_folder(tmp_path / "data", 3)
    (root / "masks" / "right_lung" / "IMG000.png").unlink()
    completed = run_ml("train-segmentation", "--data", root, "--out", tmp_path / "out")
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        f"error: IMG000.png has no right_lung mask: expected {root / 'masks' / 'right_lung' / 'IMG000'}"
        ".png or .gif."
    ]
    assert not (tmp_path / "out").exists()


def test_augmentation_moves_image_and_masks_alike_and_never_flips() -> None:
    rng = np.random.default_rng(0)
    masks = np.zeros((64, 64, len(STRUCTURES)), np.uint8)
    masks[10:50, 4:24, 0] = 1  # left half of the image only
    image = masks[:, :, 0].astype(np.float32) * 0.8 + 0.1
    for _ in range(20):
        moved_image, moved_masks = augment(image, masks, rng)
        bright = moved_image > moved_image[moved_masks[:, :, 0] == 0].max()
        overlap = (bright & (moved_masks[:, :, 0] == 1)).sum() / max(
            1, (bright | (moved_masks[:, :, 0] == 1)).sum()
        )
        assert overlap > 0.85
        assert np.flatnonzero(moved_masks[:, :, 0].any(axis=0)).max() < 40
