"""A finding's heatmap as the browser and the PDF see it: brought to the radiograph's size on request.

Images keep their maps small (one file per image, ml.classifier.explanations.heatmaps); studies analysed
before that kept one rendered PNG per finding, served as they are. A study's own heatmaps are its
key image's.
"""

import numpy as np

from ml.classifier.explanations.heatmaps import Heatmaps
from ml.images.rendering import heatmap_png
from studies import storage
from studies.models import StudyImage


def image_heatmap_map(*, image: StudyImage, label: str) -> np.ndarray | None:
    """One finding's Grad-CAM map on one image, (height, width) in [0, 1] at the radiograph's size;
    None for a study analysed before maps were kept, which has only their rendered PNGs."""
    if not image.heatmaps_file:
        return None
    return Heatmaps.from_bytes(storage.read_file(image.heatmaps_file.name)).at_radiograph_size(label)


def image_heatmap_png(*, image: StudyImage, label: str) -> bytes:
    """One finding's heatmap on one image, as an RGBA PNG at the radiograph's size.

    A study analysed before heatmaps were kept small held one image, whose rendered PNGs are the
    study's own findings'.
    """
    heatmap = image_heatmap_map(image=image, label=label)
    if heatmap is None:
        return storage.read_file(image.study.findings.get(label=label).legacy_heatmap_file.name)
    return heatmap_png(heatmap)
