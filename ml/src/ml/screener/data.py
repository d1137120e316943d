"""The screener's data: normal (0) against abnormal (1) images, split by patient.

Three sources, none of which imports TensorFlow:

- a ChestX-ray14 folder, or a label CSV (NIH's ``Data_Entry_2017.csv`` layout, in either
  spelling, or 0/1 columns per finding), read and split by patient by
  ``ml.training.datasets`` (a ChestX-ray14 folder: ``train_val_list.txt`` for training, its
  ``test_list.txt`` for evaluation); an image with any finding is abnormal, "No Finding" normal;
- a folder in the Shenzhen and Montgomery tuberculosis layout, whose file names end in
  ``_0`` (normal) or ``_1`` (abnormal) before the suffix (``CHNCXR_0001_0.png``,
  ``MCUCXR_0001_1.png``), searched recursively; each file is its own patient.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from ml.errors import DataError
from ml.training.chestxray14 import (
    DATA_ENTRY_FILENAME,
    PATIENT_COLUMN,
    TEST_LIST_FILENAME,
    read_label_table,
)
from ml.training.datasets import (
    DataOptions,
    ImageSet,
    TrainingData,
    assemble_training_data,
    load_training_data,
    split_by_group,
    table_image_set,
)
from ml.training.tables import index_images, locate_images, read_list

ABNORMAL = "abnormal"
FOLDER_NAME = re.compile(r"^(?P<patient>.+)_(?P<label>[01])\.(png|jpe?g)$", re.IGNORECASE)


def load_screener_data(options: DataOptions) -> TrainingData:
    """Training and validation images labelled normal (0) or abnormal (1); DataError on bad data."""
    data = Path(options.data)
    if data.is_dir() and not (data / DATA_ENTRY_FILENAME).is_file():
        return _load_labelled_folder(data, options)
    findings = load_training_data(options)
    return assemble_training_data(
        binary(findings.train),
        binary(findings.validation),
        f"{findings.description}; abnormal = any of them, normal = none (No Finding)",
        findings.fingerprint,
        findings.record,
    )


def read_labelled_images(data: Path, images: Path | None = None) -> ImageSet:
    """The images to evaluate on, normal or abnormal: every image of a labelled folder (``_0``/``_1``
    names) or a label CSV, or the ``test_list.txt`` images of a ChestX-ray14 folder found on disk.

    A CSV's image paths are relative to ``images`` (default: the CSV's folder); a ChestX-ray14
    folder's images are found by name under ``images`` (default: the folder).
    """
    if data.is_dir() and (data / DATA_ENTRY_FILENAME).is_file():
        return _chestxray14_test_images(data, images or data)
    if data.is_dir():
        return read_labelled_folder(data)
    if not data.is_file():
        raise DataError(f"{data} is neither a folder of labelled images nor a label CSV.")
    table = read_label_table(data)
    return binary(table_image_set(table, table.findings, images or data.parent, None))


def read_labelled_folder(root: Path) -> ImageSet:
    """The images under ``root`` whose names end in ``_0`` (normal) or ``_1`` (abnormal)."""
    files = index_images(root)
    if not files:
        raise DataError(f"{root} holds no PNG or JPEG images.")
    paths, labels = [], []
    for name, path in files.items():
        match = FOLDER_NAME.match(name)
        if match is None:
            raise DataError(
                f"{path}: the file name must end in _0 (normal) or _1 (abnormal) before its suffix, "
                "as in CHNCXR_0001_0.png."
            )
        paths.append(path)
        labels.append(int(match["label"]))
    return ImageSet(
        paths=tuple(paths),
        labels=np.asarray(labels, dtype=np.float32)[:, None],
        label_names=(ABNORMAL,),
        groups=tuple(path.name for path in paths),
    )


def binary(images: ImageSet) -> ImageSet:
    """One label, abnormal: whether an image has any of its findings."""
    if images.labels.shape[1] == 0:
        raise DataError("The labels name no finding, so no image can be called abnormal.")
    abnormal = images.labels.max(axis=1, keepdims=True).astype(np.float32)
    return ImageSet(paths=images.paths, labels=abnormal, label_names=(ABNORMAL,), groups=images.groups)


def _chestxray14_test_images(root: Path, images: Path) -> ImageSet:
    """The ``test_list.txt`` images of a ChestX-ray14 folder that are on disk, grouped by patient."""
    table = read_label_table(root / DATA_ENTRY_FILENAME)
    listed = set(read_list(root / TEST_LIST_FILENAME))
    table = table.subset([row for row, image in enumerate(table.images) if image in listed])
    located = locate_images(table.images, images, by_name=True)
    found = [row for row, path in enumerate(located) if path is not None]
    if not found:
        raise DataError(f"None of the {len(listed)} images of {TEST_LIST_FILENAME} is under {images}.")
    table = table.subset(found)
    return binary(
        ImageSet(
            paths=tuple(path for path in located if path is not None),
            labels=table.labels.astype(np.float32),
            label_names=table.findings,
            groups=table.metadata_column(PATIENT_COLUMN) or table.images,
        )
    )


def _load_labelled_folder(root: Path, options: DataOptions) -> TrainingData:
    images = read_labelled_folder(root)
    if not 0.0 < options.val_fraction < 1.0:
        raise DataError(f"The validation fraction must lie in (0, 1), not {options.val_fraction}.")
    train, validation = split_by_group(images, options.val_fraction, options.seed)
    # The labels are in the names, so the sorted names fingerprint the data set.
    fingerprint = hashlib.sha256("\n".join(sorted(path.name for path in images.paths)).encode()).hexdigest()
    abnormal = int(images.labels.sum())
    description = (
        f"labelled folder {root} (names _0 normal / _1 abnormal, sha256 of names {fingerprint[:16]}): "
        f"{len(images)} images ({abnormal} abnormal), {len(train)} train / {len(validation)} validation, "
        f"split by image (one patient per file; {options.val_fraction:g}, seed {options.seed})"
    )
    record = {
        "format": "labelled folder",
        "root": str(root),
        "names_sha256": fingerprint,
        "split": {"by": "image", "val_fraction": options.val_fraction, "seed": options.seed},
    }
    return assemble_training_data(train, validation, description, fingerprint, record)
