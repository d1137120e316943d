"""Ground-truth boxes in the layout of ChestX-ray14's ``BBox_List_2017.csv``.

Columns, by position: image index, finding label, then x, y, width and height in the
image's pixels (the header reads ``Bbox [x,y,w,h]`` split over four columns; trailing
empty columns are ignored). The file spells Infiltration "Infiltrate".
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from ml.errors import DataError
from ml.training.tables import read_table

# Spellings of BBox_List_2017.csv that differ from Data_Entry_2017.csv's.
LABEL_ALIASES = {"Infiltrate": "Infiltration"}


@dataclass(frozen=True)
class Box:
    """One finding's box on one image: top-left corner (x, y), width and height, in pixels."""

    image: str
    finding: str
    x: float
    y: float
    width: float
    height: float

    @property
    def corners(self) -> tuple[float, float, float, float]:
        return (self.x, self.y, self.x + self.width, self.y + self.height)


def read_boxes(path: str | os.PathLike[str]) -> list[Box]:
    """Read a ``BBox_List_2017.csv``-style file; raise DataError naming the first bad line."""
    table = read_table(path)
    if len(table.header) < 6:
        raise DataError(
            f"{table.path} needs six columns as BBox_List_2017.csv: image, finding label, x, y, width, "
            "height."
        )
    boxes = []
    for number, row in enumerate(table.rows, start=2):
        image, finding = row[0], row[1]
        if not image or not finding:
            raise DataError(f"{table.path}, line {number}: the image or the finding label is empty.")
        values = []
        for cell in row[2:6]:
            try:
                value = float(cell)
            except ValueError:
                value = math.nan
            values.append(value)
        x, y, width, height = values
        if not all(math.isfinite(value) for value in values) or width <= 0 or height <= 0:
            raise DataError(
                f"{table.path}, line {number}: the box {row[2:6]} is not x, y, width > 0, height > 0."
            )
        boxes.append(Box(image, LABEL_ALIASES.get(finding, finding), x, y, width, height))
    return boxes
