"""Training and validation image sets from a ChestX-ray14 folder or a labelled CSV.

A ChestX-ray14 folder holds ``Data_Entry_2017.csv``, the official ``train_val_list.txt``
and ``test_list.txt``, and the images (``images/`` or ``images_001/images/`` ...). Training
uses the images of ``train_val_list.txt`` only, split into training and validation by
patient, so that no patient's images sit on both sides; ``test_list.txt`` is left for
``python -m ml evaluate``.

A generic CSV has the image path in its first column (relative to the CSV's folder or
``images``) and one 0/1 column per finding; it is split by its patient column, or takes
its validation images from a second CSV. Nothing here imports TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ml.errors import DataError
from ml.training.chestxray14 import (
    DATA_ENTRY_FILENAME,
    LABEL_SETS,
    PATIENT_COLUMN,
    TEST_LIST_FILENAME,
    TRAIN_VAL_LIST_FILENAME,
    LabelTable,
    read_label_table,
)
from ml.training.tables import locate_images, read_list, sha256_of_files


@dataclass(frozen=True)
class ImageSet:
    """Image files with their 0/1 labels and the group (patient) each belongs to."""

    paths: tuple[Path, ...]
    labels: np.ndarray
    label_names: tuple[str, ...]
    groups: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, indices: np.ndarray | list[int]) -> ImageSet:
        indices = np.asarray(indices, dtype=np.int64)
        return ImageSet(
            paths=tuple(self.paths[i] for i in indices),
            labels=self.labels[indices],
            label_names=self.label_names,
            groups=tuple(self.groups[i] for i in indices),
        )

    def positives(self) -> dict[str, int]:
        return {
            name: int(count) for name, count in zip(self.label_names, self.labels.sum(axis=0), strict=True)
        }


@dataclass(frozen=True)
class TrainingData:
    """The two image sets of a run and a record of where they came from."""

    train: ImageSet
    validation: ImageSet
    description: str
    fingerprint: str
    record: dict[str, Any]


@dataclass(frozen=True)
class DataOptions:
    """What ``load_training_data`` reads and how it splits it (the ``train`` command's data options)."""

    data: Path
    images: Path | None = None
    label_set: str | None = None
    labels: tuple[str, ...] | None = None
    val_fraction: float = 0.1
    seed: int = 0
    val_csv: Path | None = None
    patient_column: str | None = None
    split_by_image: bool = False


def load_training_data(options: DataOptions) -> TrainingData:
    """Read the labels, find the images and split them; raise DataError on any inconsistency."""
    if not 0.0 < options.val_fraction < 1.0:
        raise DataError(f"The validation fraction must lie in (0, 1), not {options.val_fraction}.")
    if options.label_set is not None and options.label_set not in LABEL_SETS:
        raise DataError(f"Unknown label set {options.label_set!r}; use one of {', '.join(LABEL_SETS)}.")
    data = Path(options.data)
    if data.is_dir():
        return _load_chestxray14(data, options)
    if data.is_file():
        return _load_csv(data, options)
    raise DataError(f"{data} is neither a ChestX-ray14 folder nor a CSV file.")


def split_by_group(images: ImageSet, val_fraction: float, seed: int) -> tuple[ImageSet, ImageSet]:
    """Put a seeded random ``val_fraction`` of the groups (at least one) in validation.

    Groups, not images, are drawn, so a patient's images all land on the same side.
    """
    chosen = validation_groups(images.groups, val_fraction, seed)
    in_validation = np.array([group in chosen for group in images.groups])
    return images.subset(np.flatnonzero(~in_validation)), images.subset(np.flatnonzero(in_validation))


def validation_groups(groups: tuple[str, ...] | list[str], val_fraction: float, seed: int) -> set[str]:
    """The groups (patients) a seeded random ``val_fraction`` of them, at least one, puts in validation."""
    distinct = sorted(set(groups))
    if len(distinct) < 2:
        raise DataError("Splitting by patient needs at least two patients.")
    order = np.random.default_rng(seed).permutation(len(distinct))
    count = min(len(distinct) - 1, max(1, round(val_fraction * len(distinct))))
    return {distinct[i] for i in order[:count]}


def _load_chestxray14(root: Path, options: DataOptions) -> TrainingData:
    entry_path = root / DATA_ENTRY_FILENAME
    train_val_path = root / TRAIN_VAL_LIST_FILENAME
    test_path = root / TEST_LIST_FILENAME
    for path in (entry_path, train_val_path):
        if not path.is_file():
            raise DataError(
                f"{root} is not a ChestX-ray14 folder: {path.name} is missing "
                f"(it needs {DATA_ENTRY_FILENAME}, {TRAIN_VAL_LIST_FILENAME} and the images)."
            )
    table = read_label_table(entry_path)
    if not table.nih_format:
        raise DataError(f"{entry_path} lacks the columns 'Image Index' and 'Finding Labels'.")
    label_names = _chosen_labels(table, options, default_set="14")
    listed = read_list(train_val_path)
    row_of = {image: row for row, image in enumerate(table.images)}
    unknown = [image for image in listed if image not in row_of]
    if unknown:
        raise DataError(
            f"{train_val_path} lists {len(unknown)} image(s) absent from {entry_path}, e.g. {unknown[0]}."
        )
    table = table.subset([row_of[image] for image in listed])
    test_listed = len(read_list(test_path)) if test_path.is_file() else None
    if test_listed is not None:
        overlap = set(listed) & set(read_list(test_path))
        if overlap:
            raise DataError(
                f"{len(overlap)} image(s) are in both {train_val_path.name} and {test_path.name}."
            )

    images_root = options.images if options.images is not None else root
    located = locate_images(table.images, images_root, by_name=True)
    found = [row for row, path in enumerate(located) if path is not None]
    if not found:
        raise DataError(f"None of the {len(listed)} images of {train_val_path.name} is under {images_root}.")
    table = table.subset(found)
    patients = table.metadata_column(PATIENT_COLUMN)
    if patients is None:
        raise DataError(f"{entry_path} has no {PATIENT_COLUMN!r} column to split by patient.")
    images = ImageSet(
        paths=tuple(path for path in located if path is not None),
        labels=table.project(label_names).labels.astype(np.float32),
        label_names=label_names,
        groups=patients,
    )
    train, validation = split_by_group(images, options.val_fraction, options.seed)
    tables = [entry_path, train_val_path] + ([test_path] if test_listed is not None else [])
    fingerprint = sha256_of_files(tables)
    description = (
        f"ChestX-ray14 folder {root} ({DATA_ENTRY_FILENAME} + {TRAIN_VAL_LIST_FILENAME}, tables sha256 "
        f"{fingerprint[:16]}): {len(images)} of {len(listed)} train_val images found; "
        f"{len(train)} train / {len(validation)} validation images, split by {PATIENT_COLUMN} "
        f"({options.val_fraction:g} of patients, seed {options.seed}); {len(label_names)} labels"
        + (f"; {test_listed} {TEST_LIST_FILENAME} images held out" if test_listed is not None else "")
    )
    record = {
        "format": "chestxray14",
        "root": str(root),
        "images": str(images_root),
        "tables_sha256": fingerprint,
        "train_val_listed": len(listed),
        "train_val_found": len(images),
        "test_listed": test_listed,
        "split": {"by": PATIENT_COLUMN, "val_fraction": options.val_fraction, "seed": options.seed},
    }
    return assemble_training_data(train, validation, description, fingerprint, record)


def _load_csv(path: Path, options: DataOptions) -> TrainingData:
    table = read_label_table(path)
    label_names = _chosen_labels(table, options, default_set=None)
    images_root = options.images if options.images is not None else path.parent
    images = table_image_set(table, label_names, images_root, options.patient_column)
    tables = [path]
    if options.val_csv is not None:
        val_table = read_label_table(options.val_csv)
        val_root = options.images if options.images is not None else Path(options.val_csv).parent
        train, validation = images, table_image_set(val_table, label_names, val_root, options.patient_column)
        shared = set(train.groups) & set(validation.groups)
        if shared and table.patient_column() is not None:
            raise DataError(f"{len(shared)} patient(s) appear in both {path} and {options.val_csv}.")
        split = {"by": "validation CSV", "val_csv": str(options.val_csv)}
        how = f"validation from {options.val_csv}"
        tables.append(Path(options.val_csv))
    else:
        column = options.patient_column or table.patient_column()
        if column is None and not options.split_by_image:
            raise DataError(
                f"{path} has no patient column (such as patient_id) to split by patient; add one, pass "
                "--patient-column, --val-csv, or --split-by-image to split by image (which lets a "
                "patient's images leak into validation)."
            )
        train, validation = split_by_group(images, options.val_fraction, options.seed)
        by = column or "image"
        split = {"by": by, "val_fraction": options.val_fraction, "seed": options.seed}
        unit = "patients" if column else "images"
        how = f"split by {by} ({options.val_fraction:g} of {unit}, seed {options.seed})"
    fingerprint = sha256_of_files(tables)
    description = (
        f"label CSV {path} (sha256 {fingerprint[:16]}): {len(train)} train / {len(validation)} validation "
        f"images, {how}; {len(label_names)} labels"
    )
    record = {
        "format": "csv",
        "csv": str(path),
        "images": str(images_root),
        "tables_sha256": fingerprint,
        "split": split,
    }
    return assemble_training_data(train, validation, description, fingerprint, record)


def table_image_set(
    table: LabelTable, label_names: tuple[str, ...], root: Path, patient_column: str | None
) -> ImageSet:
    """``label_names`` of every image of ``table``, found under ``root``, grouped by patient if it can be."""
    located = locate_images(table.images, root, by_name=False)
    missing = [image for image, found in zip(table.images, located, strict=True) if found is None]
    if missing:
        raise DataError(
            f"{len(missing)} image(s) of {table.path} do not exist under {root}, e.g. {missing[0]}."
        )
    column = patient_column or table.patient_column()
    if column is not None:
        groups = table.metadata_column(column)
        if groups is None:
            raise DataError(f"{table.path} has no column {column!r}.")
        if any(not group for group in groups):
            raise DataError(f"{table.path}: the column {column!r} has empty cells.")
    else:
        groups = table.images
    return ImageSet(
        paths=tuple(path for path in located if path is not None),
        labels=table.project(label_names).labels.astype(np.float32),
        label_names=label_names,
        groups=tuple(groups),
    )


def _chosen_labels(table: LabelTable, options: DataOptions, *, default_set: str | None) -> tuple[str, ...]:
    if options.labels and options.label_set:
        raise DataError("Choose either a label set or a list of labels, not both.")
    if options.labels:
        names = tuple(options.labels)
    elif options.label_set or default_set:
        names = LABEL_SETS[options.label_set or default_set]
    else:
        names = table.findings
    if len(set(names)) != len(names):
        raise DataError("The labels must not repeat.")
    table.project(names)  # Raises DataError naming any label the table cannot give.
    return names


def assemble_training_data(
    train: ImageSet, validation: ImageSet, description: str, fingerprint: str, record: dict[str, Any]
) -> TrainingData:
    """The run's data with its record's counts; raise DataError unless validation can give an AUROC."""
    if len(train) == 0 or len(validation) == 0:
        raise DataError("Both the training and the validation set need images.")
    defined = [name for name, positives in validation.positives().items() if 0 < positives < len(validation)]
    if not defined:
        raise DataError(
            "No label has both positive and negative validation images, so validation AUROC is undefined; "
            "use more data or a larger validation fraction."
        )
    record = dict(
        record,
        train_images=len(train),
        validation_images=len(validation),
        train_patients=len(set(train.groups)),
        validation_patients=len(set(validation.groups)),
        train_positives=train.positives(),
        validation_positives=validation.positives(),
    )
    return TrainingData(
        train=train, validation=validation, description=description, fingerprint=fingerprint, record=record
    )
