"""Score images with an installed model through the service's own pipeline (ml.pipeline)."""

from __future__ import annotations

import csv
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.classifier.analyser import CLASSIFIER
from ml.classifier.card import ModelCard
from ml.errors import DataError, ImageDecodeError, ImageRejectedError
from ml.pipeline import Pipeline
from ml.prepared import PreparedImage


@dataclass(frozen=True)
class ScoredImages:
    """Probabilities (accepted images x labels) and the images the input screening refused.

    ``accepted`` holds the indices into the scored paths of the rows of ``scores``; ``refused``
    maps each refused path to the screening's reason, exactly as the service would answer it.
    """

    card: ModelCard
    accepted: list[int]
    scores: np.ndarray
    refused: dict[str, str]


def score_images(
    weights_dir: str | os.PathLike[str] | None,
    paths: list[Path],
    *,
    batch_size: int = 32,
    progress: bool = True,
    screen: bool = True,
    pipeline: Pipeline | None = None,
) -> ScoredImages:
    """The model's probabilities for each image the service would accept (every image: ``screen=False``).

    Images are taken in (decoded, screened, prepared) in a thread pool (Pillow and OpenCV
    release the GIL) and run through the network a batch at a time. ``pipeline``: one already
    built (the service's worker's), instead of one for ``weights_dir``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, not {batch_size}.")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from ml.engine.backend import available_cpus

    pipeline = pipeline if pipeline is not None else Pipeline(weights_dir)

    def take_in(path: Path) -> PreparedImage | str:
        try:
            return pipeline.radiograph_intake(path.read_bytes(), screen=screen).prepared
        except ImageRejectedError as error:
            return error.reason
        except (OSError, ImageDecodeError) as error:
            raise DataError(f"{path}: {error}") from error

    accepted: list[int] = []
    rows: list[np.ndarray] = []
    refused: dict[str, str] = {}
    bar = keras.utils.Progbar(len(paths), unit_name="image") if progress and sys.stdout.isatty() else None
    with ThreadPoolExecutor(max_workers=min(8, available_cpus())) as pool:
        for start in range(0, len(paths), batch_size):
            batch = list(pool.map(take_in, paths[start : start + batch_size]))
            prepared = []
            for offset, outcome in enumerate(batch):
                if isinstance(outcome, str):
                    refused[str(paths[start + offset])] = outcome
                else:
                    accepted.append(start + offset)
                    prepared.append(outcome)
            rows += [
                np.array([finding.probability for finding in result.findings], dtype=np.float32)
                for result in pipeline.run(CLASSIFIER, prepared)
            ]
            if bar is not None:
                bar.update(start + len(batch))
    card = pipeline.engine.card
    scores = np.array(rows, dtype=np.float32).reshape(len(rows), len(card.labels))
    return ScoredImages(card=card, accepted=accepted, scores=scores, refused=refused)


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
