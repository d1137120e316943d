"""A segmentation data set on disk: radiographs and one mask image per structure (the JSRT/SCR layout).

    DATA/images/JPCLN001.png
    DATA/masks/left_lung/JPCLN001.png     (or .gif, as SCR publishes them)
    DATA/masks/right_lung/JPCLN001.gif
    DATA/masks/heart/JPCLN001.png
    ...

Each folder under ``masks/`` is a structure (its canonical name, ``ml.segmentation.structures``);
every image needs a mask in each of them, of the image's size; any non-zero pixel is inside.
Images are split into training and validation by patient: JSRT has one image per patient,
so by default each image is its own patient; a CSV (columns ``image`` and ``patient``) maps
images to patients for sets that have several. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ml.errors import DataError, ImageError
from ml.images.decoding import decode_radiograph
from ml.images.radiograph import Radiograph
from ml.segmentation.preprocessing import resize_grey
from ml.segmentation.structures import KNOWN_STRUCTURES
from ml.training.datasets import validation_groups
from ml.training.tables import read_table

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".dcm")
MASK_SUFFIXES = (".png", ".gif")


@dataclass(frozen=True)
class Example:
    """One radiograph, its mask file per structure (in the data set's structure order) and its patient."""

    image: Path
    masks: tuple[Path, ...]
    patient: str


@dataclass(frozen=True)
class SegmentationData:
    structures: tuple[str, ...]
    examples: tuple[Example, ...]
    fingerprint: str

    def __len__(self) -> int:
        return len(self.examples)

    @property
    def description(self) -> str:
        patients = len({example.patient for example in self.examples})
        return (
            f"{len(self.examples)} radiographs of {patients} patients, masks of {', '.join(self.structures)}"
        )

    def split(self, val_fraction: float, seed: int) -> tuple[SegmentationData, SegmentationData]:
        """Training and validation sets, a seeded ``val_fraction`` of the patients in validation."""
        chosen = validation_groups([example.patient for example in self.examples], val_fraction, seed)
        train = tuple(example for example in self.examples if example.patient not in chosen)
        validation = tuple(example for example in self.examples if example.patient in chosen)
        return (
            SegmentationData(self.structures, train, self.fingerprint),
            SegmentationData(self.structures, validation, self.fingerprint),
        )


def find_examples(root: str | Path, patients_csv: str | Path | None = None) -> SegmentationData:
    """The data set in ``root``; DataError naming the first missing or unexpected file."""
    root = Path(root)
    images_dir, masks_dir = root / "images", root / "masks"
    for folder in (images_dir, masks_dir):
        if not folder.is_dir():
            raise DataError(f"{root} has no {folder.name}/ folder (expected images/ and masks/<structure>/).")
    images = sorted(path for path in images_dir.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise DataError(f"{images_dir} holds no images ({', '.join(IMAGE_SUFFIXES)}).")
    folders = {path.name: path for path in masks_dir.iterdir() if path.is_dir()}
    unknown = sorted(set(folders) - set(KNOWN_STRUCTURES))
    if unknown:
        raise DataError(
            f"{masks_dir} has folder(s) {', '.join(unknown)}, which are not structures this package knows "
            f"({', '.join(KNOWN_STRUCTURES)})."
        )
    structures = tuple(name for name in KNOWN_STRUCTURES if name in folders)
    if not structures:
        raise DataError(f"{masks_dir} has no structure folders (e.g. masks/heart/).")
    masks_by_structure = {name: _masks_by_stem(folders[name]) for name in structures}
    stems = {path.stem for path in images}
    if len(stems) != len(images):
        raise DataError(f"{images_dir} has two images with the same name and different suffixes.")
    for name, masks in masks_by_structure.items():
        orphans = sorted(set(masks) - stems)
        if orphans:
            raise DataError(f"{folders[name] / orphans[0]}.* is a mask without an image in {images_dir}.")
    patients = _patients(Path(patients_csv), stems) if patients_csv is not None else {}
    examples = []
    for image in images:
        masks = []
        for name in structures:
            mask = masks_by_structure[name].get(image.stem)
            if mask is None:
                raise DataError(
                    f"{image.name} has no {name} mask: expected {folders[name] / image.stem}.png or .gif."
                )
            masks.append(mask)
        examples.append(Example(image, tuple(masks), patients.get(image.stem, image.stem)))
    digest = hashlib.sha256()
    for example in examples:
        for path in (example.image, *example.masks):
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}:{stat.st_size}\0".encode())
    return SegmentationData(structures, tuple(examples), digest.hexdigest())


def read_radiograph(path: Path) -> Radiograph:
    """Decode an image of the data set; DataError naming it if it cannot be."""
    try:
        return decode_radiograph(path.read_bytes())
    except (OSError, ImageError) as error:
        raise DataError(f"{path}: {error}") from error


def read_mask(path: Path, width: int, height: int) -> np.ndarray:
    """A mask file as (height, width) bools (non-zero inside); DataError if unreadable or of another size."""
    try:
        with Image.open(path) as image:
            values = np.asarray(image.convert("L"))
    except (OSError, UnidentifiedImageError) as error:
        raise DataError(f"{path} cannot be read as a mask image: {error}.") from error
    if values.shape != (height, width):
        raise DataError(
            f"{path} is {values.shape[1]}x{values.shape[0]}, but its radiograph is {width}x{height}."
        )
    return values > 0


def load_arrays(data: SegmentationData, side: int) -> tuple[np.ndarray, np.ndarray]:
    """Every example at ``side`` square: grey (n, side, side) in [0, 1] and 0/1 masks (n, side, side, k)."""
    images = np.zeros((len(data), side, side), dtype=np.float32)
    masks = np.zeros((len(data), side, side, len(data.structures)), dtype=np.uint8)
    for index, example in enumerate(data.examples):
        radiograph = read_radiograph(example.image)
        images[index] = resize_grey(radiograph.pixels, side)
        for channel, path in enumerate(example.masks):
            mask = read_mask(path, radiograph.width, radiograph.height).astype(np.float32)
            masks[index, :, :, channel] = resize_grey(mask, side) >= 0.5
    return images, masks


def _masks_by_stem(folder: Path) -> dict[str, Path]:
    masks: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in MASK_SUFFIXES:
            if path.stem in masks:
                raise DataError(f"{folder} has two masks for {path.stem}.")
            masks[path.stem] = path
    return masks


def _patients(path: Path, stems: set[str]) -> dict[str, str]:
    table = read_table(path)
    patients = {}
    for image, patient in zip(table.column("image"), table.column("patient"), strict=True):
        stem = Path(image).stem
        if stem not in stems:
            raise DataError(f"{path} names {image}, which is not in the images/ folder.")
        if not patient:
            raise DataError(f"{path} gives no patient for {image}.")
        patients[stem] = patient
    return patients
