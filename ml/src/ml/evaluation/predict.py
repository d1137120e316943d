"""Score images with an installed model: the same decoding, preprocessing and network as the service."""

from __future__ import annotations

import csv
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ml.errors import ImageDecodeError
from ml.images.decoding import decode_radiograph
from ml.inference.preprocessing import PreprocessingSpec, prepare_input
from ml.training.errors import DataError
from ml.weights.card import ModelCard


def score_images(
    weights_dir: str | os.PathLike[str] | None,
    paths: list[Path],
    *,
    batch_size: int = 32,
    progress: bool = True,
) -> tuple[ModelCard, np.ndarray]:
    """The model's probabilities for each image, shape (len(paths), len(card.labels)).

    Images are decoded and preprocessed in a thread pool (Pillow releases the GIL while it
    decodes and resizes) and run through the network a batch at a time.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, not {batch_size}.")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from ml.inference.engine import InferenceEngine, available_cpus

    engine = InferenceEngine.load(weights_dir)
    card = engine.card
    spec = PreprocessingSpec.from_dict(card.preprocessing)

    def load(path: Path) -> np.ndarray:
        try:
            radiograph = decode_radiograph(path.read_bytes())
        except (OSError, ImageDecodeError) as error:
            raise DataError(f"{path}: {error}") from error
        return prepare_input(radiograph, spec, card.input_channels).tensor[0]

    scores = np.zeros((len(paths), len(card.labels)), dtype=np.float32)
    bar = keras.utils.Progbar(len(paths), unit_name="image") if progress and sys.stdout.isatty() else None
    with ThreadPoolExecutor(max_workers=min(8, available_cpus())) as pool:
        for start in range(0, len(paths), batch_size):
            batch = np.stack(list(pool.map(load, paths[start : start + batch_size])))
            scores[start : start + len(batch)] = engine.explain(batch)[0]
            if bar is not None:
                bar.update(start + len(batch))
    return card, scores


def write_scores(
    path: Path, images: list[str] | tuple[str, ...], labels: tuple[str, ...], scores: np.ndarray
) -> None:
    """Write a scores CSV (image id, then one column per label) that ``evaluate --scores`` reads back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", *labels])
        for image, row in zip(images, scores, strict=True):
            writer.writerow([image, *(f"{float(value):.7g}" for value in row)])
