"""A site's labelled set, uploaded as a zip of radiographs and a labels CSV, checked before it is kept.

The zip is read with the CT intake's limits (ml.ct.zip_members: the member count from the end
record, names that climb out of the archive refused, each member inflated as a stream under caps
on its size, the total and the ratio); every member must open as a PNG, JPEG or DICOM file and be
named by a row of the CSV, which is the evaluator's own (``python -m ml evaluate --truth``: NIH's
Data_Entry_2017.csv layout, or an image column then one 0/1 column per finding). Anything else
refuses the whole set, naming the member: a bad member is never skipped, so the set evaluated is
the set the site meant.
"""

import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
from django.conf import settings

from common.errors import DomainError
from ml.ct.zip_members import zip_members
from ml.errors import DataError, ImageDecodeError, ImageError, ImageTooLargeError
from ml.training.chestxray14 import LabelTable, read_label_table

LABELS_NAME = "labels.csv"
# The opening bytes of the image types the service takes in (DICOM: a 128-byte preamble, "DICM").
_SIGNATURES = ((0, b"\x89PNG\r\n\x1a\n"), (0, b"\xff\xd8\xff"), (128, b"DICM"))


@dataclass(frozen=True)
class LabelledCase:
    """One radiograph of the set and its labels: finding (the model's spelling) to 0 or 1; a finding
    absent has no label for this case (a clinician gave no verdict on it)."""

    name: str
    content: bytes
    labels: dict[str, int]


def acceptance_body_limit() -> int:
    """The largest body POST /api/monitoring/acceptance-runs/ takes (config.request_limits): the zip,
    and room for the labels CSV and the form's fields."""
    return settings.CXR_ACCEPTANCE_MAX_ZIP_BYTES + 16 * 1024 * 1024


def image_head_check(name: str, head: bytes) -> None:
    if not any(head[offset : offset + len(mark)] == mark for offset, mark in _SIGNATURES):
        raise ImageDecodeError(f"{name} in the zip file is not a PNG, JPEG or DICOM image.")


def labelled_set_read(*, archive: bytes, labels_csv: bytes, labels: tuple[str, ...]) -> list[LabelledCase]:
    """The cases of an uploaded set, labelled for the model's ``labels``; a DomainError (400, or 413
    for a zip over a limit) saying what is wrong with it otherwise."""
    table = labels_table_read(labels_csv)
    try:
        members = zip_members(archive, head_check=image_head_check)
    except ImageError as error:
        status = 413 if isinstance(error, ImageTooLargeError) else 400
        raise DomainError(str(error), status_code=status, extra={"field": "images"}) from error
    rows = {image: row for row, image in enumerate(table.images)}
    by_name: dict[str, int] = {}
    for row, image in enumerate(table.images):
        by_name.setdefault(PurePosixPath(image.replace("\\", "/")).name, row)
    columns = {label: table.find(label) for label in labels}
    columns = {label: column for label, column in columns.items() if column is not None}
    if not columns:
        raise DomainError(
            "The labels CSV names none of the model's findings.",
            extra={"field": "labels", "findings": list(labels), "columns": list(table.findings)},
        )
    cases: list[LabelledCase] = []
    taken: set[int] = set()
    for name, content in members:
        row = rows.get(name, by_name.get(PurePosixPath(name).name))
        if row is None:
            raise DomainError(
                f"{name} in the zip file has no row in the labels CSV: every image must be labelled.",
                extra={"field": "images", "member": name},
            )
        if row in taken:
            raise DomainError(
                f"{name} in the zip file is the second image of the CSV's row {table.images[row]!r}.",
                extra={"field": "images", "member": name},
            )
        taken.add(row)
        cases.append(
            LabelledCase(
                name=table.images[row],
                content=content,
                labels={label: int(table.labels[row, column]) for label, column in columns.items()},
            )
        )
    missing = [image for row, image in enumerate(table.images) if row not in taken]
    if missing:
        raise DomainError(
            f"{len(missing)} image(s) of the labels CSV are not in the zip file, e.g. {missing[0]}.",
            extra={"field": "images", "missing": missing[:20]},
        )
    return cases


def labels_table_read(labels_csv: bytes) -> LabelTable:
    """The CSV read by the evaluator's own reader (from a file, which is what it reads)."""
    with tempfile.TemporaryDirectory(prefix="cxr-labels-") as folder:
        path = Path(folder) / LABELS_NAME
        path.write_bytes(labels_csv)
        try:
            table = read_label_table(path)
        except DataError as error:
            raise DomainError(
                str(error).replace(str(path), LABELS_NAME), extra={"field": "labels"}
            ) from error
    if not np.isin(table.labels, (0, 1)).all():
        raise DomainError("The labels CSV holds labels other than 0 and 1.", extra={"field": "labels"})
    return table
