"""Tiny datasets for the training, evaluation and localisation tests, built in a temporary folder.

Everything starts from the 18 real NIH radiographs in ``../shared/data/cxr`` (or
``$CXR_DATA_DIR``), which are never copied into the repository: the tests write small,
downscaled variants of them under pytest's ``tmp_path``.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_ENV_VAR = "CXR_DATA_DIR"
DATA_ENTRY_HEADER = [
    "Image Index",
    "Finding Labels",
    "Follow-up #",
    "Patient ID",
    "Patient Age",
    "Patient Gender",
    "View Position",
    "OriginalImage[Width",
    "Height]",
    "OriginalImagePixelSpacing[x",
    "y]",
    "",
]
# The findings NIH drew boxes for (BBox_List_2017.csv spells Infiltration "Infiltrate").
BOX_FINDINGS = (
    "Atelectasis",
    "Cardiomegaly",
    "Effusion",
    "Infiltrate",
    "Mass",
    "Nodule",
    "Pneumonia",
    "Pneumothorax",
)


@dataclass(frozen=True)
class RealImage:
    path: Path
    findings: tuple[str, ...]
    patient: str
    age: str
    sex: str
    view: str


def cxr_data_dir() -> Path:
    override = os.environ.get(DATA_ENV_VAR, "").strip()
    return Path(override) if override else (REPO_ROOT / ".." / "shared" / "data" / "cxr").resolve()


def real_images() -> list[RealImage]:
    """The shared NIH radiographs with their labels and metadata, sorted by file name."""
    labels = cxr_data_dir() / "labels.csv"
    if not labels.is_file():
        pytest.fail(f"No {labels}; set ${DATA_ENV_VAR} to the shared cxr data.")
    images = []
    with labels.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            findings = tuple(f for f in row["finding_labels"].split("|") if f and f != "No Finding")
            images.append(
                RealImage(
                    path=cxr_data_dir() / "nih" / row["image"],
                    findings=findings,
                    patient=row["patient_id"],
                    age=row["patient_age"],
                    sex=row["patient_sex"],
                    view=row["view_position"],
                )
            )
    return sorted(images, key=lambda image: image.path.name)


def grey_array(path: Path, size: int) -> np.ndarray:
    """A real radiograph as an 8-bit grey array, downscaled to ``size`` x ``size``."""
    with Image.open(path) as image:
        return np.asarray(image.convert("L").resize((size, size), Image.Resampling.BOX), dtype=np.uint8)


def variant(pixels: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """A plausible other radiograph: a random crop of 85-100 %, perhaps mirrored, gamma-varied."""
    height, width = pixels.shape
    side = int(height * rng.uniform(0.85, 1.0))
    top, left = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
    crop = pixels[top : top + side, left : left + side]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    resized = np.asarray(
        Image.fromarray(np.ascontiguousarray(crop)).resize((size, size), Image.Resampling.BILINEAR)
    )
    gamma = rng.uniform(0.8, 1.25)
    return np.clip(255.0 * (resized / 255.0) ** gamma, 0, 255).astype(np.uint8)


def save_png(pixels: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


@dataclass(frozen=True)
class NihFolder:
    root: Path
    train_val: list[str]
    test: list[str]
    size: int


def build_nih_folder(root: Path, *, size: int = 96, follow_ups: int = 3, test_patients: int = 5) -> NihFolder:
    """A ChestX-ray14-style folder: each real radiograph becomes one patient with ``follow_ups`` images.

    Images go to ``images_001/images`` (one of NIH's archive layouts), with the real
    ``Data_Entry_2017.csv`` header, ``train_val_list.txt`` / ``test_list.txt`` split by
    patient, and a ``BBox_List_2017.csv`` with one box per boxed finding of each test image.
    """
    rng = np.random.default_rng(0)
    images_dir = root / "images_001" / "images"
    reals = real_images()
    entries, boxes = [], []
    test_ids = {image.patient for image in reals[-test_patients:]}
    train_val, test = [], []
    for real in reals:
        pixels = grey_array(real.path, 2 * size)
        for follow_up in range(follow_ups):
            name = f"{int(real.patient):08d}_{follow_up:03d}.png"
            save_png(variant(pixels, rng, size), images_dir / name)
            entries.append(
                [
                    name,
                    "|".join(real.findings) or "No Finding",
                    str(follow_up),
                    real.patient,
                    real.age,
                    real.sex,
                    real.view,
                    str(size),
                    str(size),
                    "0.143",
                    "0.143",
                    "",
                ]
            )
            (test if real.patient in test_ids else train_val).append(name)
            if real.patient in test_ids:
                for finding in real.findings:
                    spelled = "Infiltrate" if finding == "Infiltration" else finding
                    if spelled in BOX_FINDINGS:
                        x, y = rng.uniform(0.15, 0.45) * size, rng.uniform(0.2, 0.4) * size
                        boxes.append(
                            [name, spelled, f"{x:.3f}", f"{y:.3f}", f"{0.35 * size:.3f}", f"{0.3 * size:.3f}"]
                        )
    _write_csv(root / "Data_Entry_2017.csv", DATA_ENTRY_HEADER, entries)
    _write_csv(
        root / "BBox_List_2017.csv", ["Image Index", "Finding Label", "Bbox [x", "y", "w", "h]"], boxes
    )
    (root / "train_val_list.txt").write_text("\n".join(train_val) + "\n")
    (root / "test_list.txt").write_text("\n".join(test) + "\n")
    return NihFolder(root=root, train_val=train_val, test=test, size=size)


def build_planted_csv(
    root: Path,
    *,
    size: int = 64,
    per_image: int = 12,
    seed: int = 0,
) -> Path:
    """A generic label CSV whose "Mass" positives carry a bright square mark; "Nodule" is noise.

    Each real radiograph yields ``per_image`` variants, all of one patient (so the split by
    patient keeps them together); half of the variants, at random, get the mark.
    """
    rng = np.random.default_rng(seed)
    rows = []
    mark = max(4, size // 8)
    for real in real_images():
        pixels = grey_array(real.path, 2 * size)
        for copy in range(per_image):
            image = variant(pixels, rng, size)
            mass = int(rng.random() < 0.5)
            if mass:
                top, left = rng.integers(size // 8, size - size // 8 - mark, size=2)
                image[top : top + mark, left : left + mark] = 255
            name = f"images/{real.path.stem}_{copy:02d}.png"
            save_png(image, root / name)
            rows.append([name, mass, int(rng.random() < 0.3), real.patient])
    path = root / "labels.csv"
    _write_csv(
        path,
        ["path", "Mass", "Nodule", "patient_id"],
        [[name, str(mass), str(nodule), patient] for name, mass, nodule, patient in rows],
    )
    return path


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
