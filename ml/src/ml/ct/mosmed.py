"""MosMedData's layout: ``studies/CT-0/study_0001.nii.gz`` ... ``studies/CT-4/...``, one volume
per patient, graded by lung involvement; binarised into positive (the card's grades) and negative.

Every slice of a volume carries its volume's label (MosMedData grades patients, not
slices), so a split is always by volume, that is by patient.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.ct.series import NIFTI_SUFFIXES, read_nifti
from ml.ct.window import LungWindow, network_slices_uint8
from ml.errors import DataError, ImageError

GRADES = ("CT-0", "CT-1", "CT-2", "CT-3", "CT-4")
STUDIES_FOLDER = "studies"


@dataclass(frozen=True)
class Volume:
    """One patient's CT: its file, MosMedData grade, patient id (the file's stem) and 0/1 label."""

    path: Path
    grade: str
    patient: str
    label: int


def parse_grades(text: str) -> tuple[str, ...]:
    """ "CT-2,CT-3,CT-4" -> ("CT-2", "CT-3", "CT-4"); ValueError for an unknown grade or none."""
    grades = tuple(dict.fromkeys(part.strip().upper() for part in text.split(",") if part.strip()))
    unknown = [grade for grade in grades if grade not in GRADES]
    if not grades or unknown:
        raise ValueError(
            f"Positive grades must be a comma-separated subset of {', '.join(GRADES)}, not {text!r}."
        )
    if len(grades) == len(GRADES):
        raise ValueError("Not every grade can be positive: nothing would be negative.")
    return grades


def find_volumes(root: str | os.PathLike[str], positive_grades: tuple[str, ...]) -> list[Volume]:
    """Every NIfTI volume under ``root/studies/CT-k/`` (or ``root/CT-k/``), sorted by patient."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"The CT data folder {root} does not exist or is not a folder.")
    base = root / STUDIES_FOLDER if (root / STUDIES_FOLDER).is_dir() else root
    volumes: list[Volume] = []
    for grade in GRADES:
        folder = base / grade
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            name = path.name.lower()
            if path.is_file() and name.endswith(NIFTI_SUFFIXES):
                patient = path.name[: -len(".nii.gz")] if name.endswith(".nii.gz") else path.stem
                volumes.append(Volume(path, grade, patient, int(grade in positive_grades)))
    if not volumes:
        raise DataError(f"No NIfTI volumes under {base}/CT-0 ... CT-4 (MosMedData's layout).")
    patients = [volume.patient for volume in volumes]
    if len(set(patients)) != len(patients):
        raise DataError(f"{base}: two volumes share a patient id (file name) across grades.")
    return sorted(volumes, key=lambda volume: volume.patient)


def fingerprint(volumes: list[Volume]) -> str:
    """A SHA-256 over the volumes' grades, names and sizes: a resumed run must see the same data."""
    digest = hashlib.sha256()
    for volume in volumes:
        digest.update(f"{volume.grade}/{volume.path.name}:{volume.path.stat().st_size}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Split:
    """Patients for training, for validation (the run's decisions) and held out for evaluate-ct."""

    train: list[Volume]
    validation: list[Volume]
    test: list[Volume]


def split_by_patient(
    volumes: list[Volume], validation_fraction: float, test_fraction: float, seed: int
) -> Split:
    """A seeded split stratified by label; each class keeps a volume for training and one for validation."""
    if not 0.0 < validation_fraction < 1.0 or not 0.0 <= test_fraction < 1.0:
        raise ValueError("The validation fraction must be in (0, 1) and the test fraction in [0, 1).")
    rng = np.random.default_rng(seed)
    split = Split([], [], [])
    for label in (0, 1):
        members = [volume for volume in volumes if volume.label == label]
        kind = "positive" if label else "negative"
        validation = max(1, round(validation_fraction * len(members)))
        test = round(test_fraction * len(members))
        if len(members) - validation - test < 1:
            raise DataError(
                f"The data has {len(members)} {kind} volume(s): too few for training, validation"
                f"{' and test' if test else ''} to have one each."
            )
        order = [members[index] for index in rng.permutation(len(members))]
        split.validation.extend(order[:validation])
        split.test.extend(order[validation : validation + test])
        split.train.extend(order[validation + test :])
    for part in (split.train, split.validation, split.test):
        part.sort(key=lambda volume: volume.patient)
    return split


def load_slices(volume: Volume, window: LungWindow, size: int) -> np.ndarray:
    """The volume's slices as the network sees them, as uint8 (slices, size, size): the network's
    input is 256 grey levels (``network_slices``), so this keeps it exactly in a quarter of the memory."""
    try:
        series = read_nifti(volume.path)
    except ImageError as error:
        raise DataError(f"{volume.path}: {error}") from error
    return network_slices_uint8(series.hounsfield, window, size)
