"""Score image files with the screener as the service would take them in (decoding, input screening)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.errors import DataError, ImageDecodeError, ImageRejectedError
from ml.images.decoding import decode_radiograph
from ml.images.screening import screen_radiograph
from ml.screener.analyser import ScreenerAnalyser


@dataclass(frozen=True)
class ScoredImages:
    """P(abnormal) of the accepted images (``accepted`` indexes the paths) and the refused ones' reasons."""

    accepted: list[int]
    probabilities: np.ndarray
    refused: dict[str, str]


def score_labelled_images(
    weights_dir: str | os.PathLike[str] | None,
    paths: tuple[Path, ...] | list[Path],
    *,
    screen: bool = True,
    batch_size: int = 16,
    threads: int | None = None,
) -> ScoredImages:
    """The screener's probability for each image the service would accept (every image: ``screen=False``).

    An unreadable file raises DataError naming it; a file the input screening refuses is
    reported with its reason, as the service would answer it.
    """
    screener = ScreenerAnalyser.load(weights_dir, threads=threads)
    accepted: list[int] = []
    probabilities: list[float] = []
    refused: dict[str, str] = {}
    for start in range(0, len(paths), batch_size):
        tensors = []
        for index in range(start, min(start + batch_size, len(paths))):
            path = Path(paths[index])
            try:
                radiograph = decode_radiograph(path.read_bytes())
                if screen:
                    radiograph, _ = screen_radiograph(radiograph)
            except ImageRejectedError as error:
                refused[str(path)] = error.reason
                continue
            except (OSError, ImageDecodeError) as error:
                raise DataError(f"{path}: {error}") from error
            accepted.append(index)
            tensors.append(screener.prepare(screener.card, radiograph))
        if tensors:
            probabilities += [result.probability for result in screener.score(np.stack(tensors))]
    return ScoredImages(accepted=accepted, probabilities=np.asarray(probabilities), refused=refused)
