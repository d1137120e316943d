"""A finding's heatmap as the browser and the PDF see it: brought to the radiograph's size on request.

Images keep their maps small (one file per image, ml.classifier.explanations.heatmaps); studies analysed
before that kept one rendered PNG per finding, served as they are. A study's own heatmaps are its
key image's.
"""

import numpy as np

from ml.classifier.explanations.heatmaps import Heatmaps
from ml.images.rendering import heatmap_png
from studies import storage
from studies.models import Finding, ImageFinding, Study, StudyImage


def heatmap_at_radiograph_size(heatmaps_file: str, label: str) -> np.ndarray:
    """One label's map in [0, 1] at the radiograph's size, from a stored small-heatmaps file."""
    return Heatmaps.from_bytes(storage.read_file(heatmaps_file)).at_radiograph_size(label)


def finding_heatmap(*, study: Study, finding: Finding) -> np.ndarray | None:
    """The finding's map in [0, 1] at the radiograph's size, or None for a study with rendered PNGs."""
    if not study.heatmaps_file:
        return None
    return heatmap_at_radiograph_size(study.heatmaps_file.name, finding.label)


def finding_heatmap_png(*, study: Study, finding: Finding) -> bytes:
    """The finding's heatmap as an RGBA PNG at the radiograph's size."""
    heatmap = finding_heatmap(study=study, finding=finding)
    if heatmap is None:
        return storage.read_file(finding.legacy_heatmap_file.name)
    return heatmap_png(heatmap)


def image_finding_heatmap_png(*, image: StudyImage, finding: ImageFinding) -> bytes:
    """An image's finding heatmap as an RGBA PNG at the radiograph's size.

    A study analysed before heatmaps were kept small held one image, whose rendered PNGs are the
    study's own findings'.
    """
    if not image.heatmaps_file:
        return finding_heatmap_png(study=image.study, finding=image.study.findings.get(label=finding.label))
    return heatmap_png(heatmap_at_radiograph_size(image.heatmaps_file.name, finding.label))
