"""Small CSV helpers shared by training, evaluation and localisation.

The standard library's csv module is enough for these tables, and reading them by hand
lets every error name the file, the line and the column at fault.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ml.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class Table:
    """A CSV file's header and rows (each row padded or cut to the header's length)."""

    path: Path
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def column(self, name: str) -> list[str]:
        try:
            index = self.header.index(name)
        except ValueError as error:
            raise DataError(f"{self.path} has no column {name!r}.") from error
        return [row[index] for row in self.rows]


def read_table(path: str | os.PathLike[str]) -> Table:
    """Read a CSV file with a header line; raise DataError if it is missing, unreadable or empty."""
    path = Path(path)
    try:
        # utf-8-sig drops the byte-order mark that spreadsheet programs like to add.
        with path.open(newline="", encoding="utf-8-sig") as handle:
            lines = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    except FileNotFoundError as error:
        raise DataError(f"{path}: no such file.") from error
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"{path} cannot be read as CSV: {error}.") from error
    if not lines:
        raise DataError(f"{path} is empty.")
    header = tuple(cell.strip() for cell in lines[0])
    width = len(header)
    rows = tuple(
        tuple(cell.strip() for cell in (row + [""] * (width - len(row)))[:width]) for row in lines[1:]
    )
    if not rows:
        raise DataError(f"{path} has a header but no rows.")
    return Table(path=path, header=header, rows=rows)


def read_list(path: str | os.PathLike[str]) -> list[str]:
    """The non-empty lines of a text file such as ``train_val_list.txt``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise DataError(f"{path}: no such file.") from error
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path} cannot be read: {error}.") from error
    return [line.strip() for line in text.splitlines() if line.strip()]


def name_key(name: str) -> str:
    """A spelling-insensitive key for finding names: "Pleural_Thickening" matches "pleural thickening"."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def index_images(root: str | os.PathLike[str]) -> dict[str, Path]:
    """Map each image file name under ``root`` (searched recursively) to its path.

    ChestX-ray14 is distributed as ``images/`` or as ``images_001/images/`` ... folders;
    indexing by file name finds an image in either layout. The first of two equal names
    wins, in sorted order, so the choice is reproducible.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"The image folder {root} does not exist or is not a folder.")
    found: dict[str, Path] = {}
    for directory, subdirectories, files in os.walk(root):
        subdirectories.sort()
        for name in sorted(files):
            if name.lower().endswith(IMAGE_SUFFIXES) and name not in found:
                found[name] = Path(directory) / name
    return found


def sha256_of_files(paths: list[Path]) -> str:
    """One SHA-256 over several files' names and contents, to fingerprint a data set's tables."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode("utf-8") + b"\0")
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def locate_images(images: list[str] | tuple[str, ...], root: Path, *, by_name: bool) -> list[Path | None]:
    """Each image's file, or None where it is missing.

    ``by_name`` finds file names anywhere under ``root`` (ChestX-ray14's ids are file names
    spread over several folders); otherwise an entry is a path, absolute or relative to ``root``.
    """
    if by_name:
        index = index_images(root)
        return [index.get(Path(image).name) for image in images]
    located: list[Path | None] = []
    for image in images:
        path = Path(image) if Path(image).is_absolute() else root / image
        located.append(path if path.is_file() else None)
    return located
