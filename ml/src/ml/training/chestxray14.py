"""ChestX-ray14's tables and label sets, and per-image 0/1 label tables in general.

Two table layouts carry labels:

- NIH's ``Data_Entry_2017.csv``: ``Image Index``, ``Finding Labels`` (``|``-separated, or
  ``No Finding``), ``Patient ID`` and further metadata columns;
- a generic CSV: the image (an id or a path) in the first column, then one 0/1 column per
  finding; columns that are not 0/1 (a patient id, an age) are kept as metadata.

Both read into a ``LabelTable``. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ml.errors import DataError
from ml.labels import CHESTXRAY14_LABELS
from ml.training.tables import Table, name_key, read_table

DATA_ENTRY_FILENAME = "Data_Entry_2017.csv"
TRAIN_VAL_LIST_FILENAME = "train_val_list.txt"
TEST_LIST_FILENAME = "test_list.txt"
BBOX_LIST_FILENAME = "BBox_List_2017.csv"

IMAGE_COLUMN = "Image Index"
FINDINGS_COLUMN = "Finding Labels"
PATIENT_COLUMN = "Patient ID"
# The same table's columns as redistributed extracts spell them (the shared radiographs'
# ``labels.csv``: ``image``, ``finding_labels``, ``patient_id``), matched by ``name_key``.
IMAGE_COLUMN_KEYS = ("imageindex", "image")
FINDINGS_COLUMN_KEY = "findinglabels"
NO_FINDING = "No Finding"

OTHER_LABEL = "Other"
# The 8-class set: the six findings of the original ChestX-ray8 paper that stay frequent
# enough on their own, Consolidation, and the rare rest merged into one "Other" class.
EIGHT_CLASS_LABELS: tuple[str, ...] = (
    "Atelectasis",
    "Effusion",
    "Infiltration",
    "Mass",
    "Nodule",
    "Pneumothorax",
    "Consolidation",
    OTHER_LABEL,
)
MERGED_INTO_OTHER: tuple[str, ...] = tuple(
    label for label in CHESTXRAY14_LABELS if label not in EIGHT_CLASS_LABELS
)
LABEL_SETS: dict[str, tuple[str, ...]] = {"14": CHESTXRAY14_LABELS, "8": EIGHT_CLASS_LABELS}

# Spellings a label column may use for the patient, in order of preference.
PATIENT_COLUMN_KEYS = ("patientid", "patient", "subjectid", "subject")

_BINARY_VALUES = {"0": 0, "1": 1, "0.0": 0, "1.0": 1}
_UNCERTAIN_VALUES = {"-1", "-1.0"}


@dataclass(frozen=True)
class LabelTable:
    """Per-image 0/1 labels: ``labels[i, j]`` says whether image ``images[i]`` shows ``findings[j]``."""

    path: Path
    images: tuple[str, ...]
    findings: tuple[str, ...]
    labels: np.ndarray
    metadata: dict[str, tuple[str, ...]] = field(default_factory=dict)
    nih_format: bool = False

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, indices: np.ndarray | list[int]) -> LabelTable:
        indices = np.asarray(indices, dtype=np.int64)
        return LabelTable(
            path=self.path,
            images=tuple(self.images[i] for i in indices),
            findings=self.findings,
            labels=self.labels[indices],
            metadata={name: tuple(values[i] for i in indices) for name, values in self.metadata.items()},
            nih_format=self.nih_format,
        )

    def find(self, finding: str) -> int | None:
        """The column of ``finding``, matched regardless of case, spaces and underscores."""
        key = name_key(finding)
        for index, name in enumerate(self.findings):
            if name_key(name) == key:
                return index
        return None

    def project(self, findings: tuple[str, ...] | list[str]) -> LabelTable:
        """The labels of ``findings``, in that order; "Other" is derived from the rare findings if absent."""
        columns = []
        for finding in findings:
            index = self.find(finding)
            if index is not None:
                columns.append(self.labels[:, index])
            elif finding == OTHER_LABEL:
                columns.append(self._merged_other())
            else:
                raise DataError(
                    f"{self.path} has no label column for {finding!r} (it has: {', '.join(self.findings)})."
                )
        labels = np.stack(columns, axis=1).astype(np.uint8) if columns else np.zeros((len(self), 0), np.uint8)
        return LabelTable(
            path=self.path,
            images=self.images,
            findings=tuple(findings),
            labels=labels,
            metadata=self.metadata,
            nih_format=self.nih_format,
        )

    def metadata_column(self, name: str) -> tuple[str, ...] | None:
        """A metadata column by name, matched like findings; None when there is none."""
        key = name_key(name)
        for column, values in self.metadata.items():
            if name_key(column) == key:
                return values
        return None

    def patient_column(self) -> str | None:
        """The name of the column that identifies patients, if the table has one."""
        for wanted in PATIENT_COLUMN_KEYS:
            for column in self.metadata:
                if name_key(column) == wanted:
                    return column
        return None

    def _merged_other(self) -> np.ndarray:
        missing = [label for label in MERGED_INTO_OTHER if self.find(label) is None]
        if missing:
            raise DataError(
                f"{self.path} cannot give the merged {OTHER_LABEL!r} label: it lacks {', '.join(missing)}."
            )
        merged = [self.labels[:, self.find(label)] for label in MERGED_INTO_OTHER]
        return np.max(np.stack(merged, axis=1), axis=1)


def is_data_entry(header: tuple[str, ...]) -> bool:
    """Whether a CSV header is that of NIH's ``Data_Entry_2017.csv`` (in either spelling)."""
    return _data_entry_columns(header) is not None


def _data_entry_columns(header: tuple[str, ...]) -> tuple[str, str] | None:
    """The (image, findings) column names of a ``Data_Entry_2017.csv``-style header, if it is one."""
    keys = {name_key(name): name for name in header}
    images = next((keys[key] for key in IMAGE_COLUMN_KEYS if key in keys), None)
    findings = keys.get(FINDINGS_COLUMN_KEY)
    return None if images is None or findings is None else (images, findings)


def read_label_table(path: str | os.PathLike[str]) -> LabelTable:
    """Read NIH's ``Data_Entry_2017.csv`` or a generic 0/1 label CSV (see the module docstring)."""
    table = read_table(path)
    if is_data_entry(table.header):
        return _read_data_entry(table)
    return _read_generic(table)


def _read_data_entry(table: Table) -> LabelTable:
    columns = _data_entry_columns(table.header) or (IMAGE_COLUMN, FINDINGS_COLUMN)
    image_name, findings_name = columns
    images = table.column(image_name)
    findings_column = table.column(findings_name)
    index = {label: position for position, label in enumerate(CHESTXRAY14_LABELS)}
    labels = np.zeros((len(images), len(CHESTXRAY14_LABELS)), dtype=np.uint8)
    for row, text in enumerate(findings_column):
        for finding in (part.strip() for part in text.split("|")):
            if finding in ("", NO_FINDING):
                continue
            if finding not in index:
                raise DataError(
                    f"{table.path}, line {row + 2}: unknown finding {finding!r} in {findings_name!r}."
                )
            labels[row, index[finding]] = 1
    _check_unique(table.path, images)
    metadata = {name: tuple(table.column(name)) for name in table.header if name and name not in columns}
    return LabelTable(
        path=table.path,
        images=tuple(images),
        findings=CHESTXRAY14_LABELS,
        labels=labels,
        metadata=metadata,
        nih_format=True,
    )


def _read_generic(table: Table) -> LabelTable:
    if len(table.header) < 2:
        raise DataError(f"{table.path} needs an image column and at least one 0/1 finding column.")
    images = [row[0] for row in table.rows]
    if any(not image for image in images):
        raise DataError(f"{table.path}: the first column (the image) has empty cells.")
    _check_unique(table.path, images)
    findings: list[str] = []
    columns: list[np.ndarray] = []
    metadata: dict[str, tuple[str, ...]] = {}
    for position, name in enumerate(table.header[1:], start=1):
        values = [row[position] for row in table.rows]
        kind = _column_kind(values)
        if kind == "binary":
            if not name:
                raise DataError(f"{table.path}: a 0/1 column has no name in the header.")
            findings.append(name)
            columns.append(np.array([_BINARY_VALUES[value] for value in values], dtype=np.uint8))
        elif kind == "uncertain":
            raise DataError(
                f"{table.path}: column {name!r} holds -1 (uncertain) labels; map them to 0 or 1 first."
            )
        elif kind == "incomplete":
            raise DataError(f"{table.path}: column {name!r} is a 0/1 column with empty cells.")
        elif name:
            metadata[name] = tuple(values)
    if not findings:
        raise DataError(f"{table.path} has no 0/1 finding column after the image column.")
    return LabelTable(
        path=table.path,
        images=tuple(images),
        findings=tuple(findings),
        labels=np.stack(columns, axis=1),
        metadata=metadata,
        nih_format=False,
    )


def _column_kind(values: list[str]) -> str:
    present = [value for value in values if value != ""]
    if not present or not all(value in _BINARY_VALUES or value in _UNCERTAIN_VALUES for value in present):
        return "metadata"
    if any(value in _UNCERTAIN_VALUES for value in present):
        return "uncertain"
    return "binary" if len(present) == len(values) else "incomplete"


def _check_unique(path: Path, images: list[str]) -> None:
    seen: set[str] = set()
    for row, image in enumerate(images):
        if image in seen:
            raise DataError(f"{path}, line {row + 2}: the image {image!r} is listed twice.")
        seen.add(image)
