"""A finding's heatmap as the browser and the PDF see it: brought to the radiograph's size on request.

Studies keep their maps small (one file per study, ml.explanations.heatmaps); studies analysed
before that kept one rendered PNG per finding, served as they are.
"""

import numpy as np

from ml.explanations.heatmaps import Heatmaps
from ml.images.rendering import heatmap_png
from studies import storage
from studies.models import Finding, Study


def finding_heatmap(*, study: Study, finding: Finding) -> np.ndarray | None:
    """The finding's map in [0, 1] at the radiograph's size, or None for a study with rendered PNGs."""
    if not study.heatmaps_file:
        return None
    heatmaps = Heatmaps.from_bytes(storage.read_file(study.heatmaps_file.name))
    return heatmaps.at_radiograph_size(finding.label)


def finding_heatmap_png(*, study: Study, finding: Finding) -> bytes:
    """The finding's heatmap as an RGBA PNG at the radiograph's size."""
    heatmap = finding_heatmap(study=study, finding=finding)
    if heatmap is None:
        return storage.read_file(finding.legacy_heatmap_file.name)
    return heatmap_png(heatmap)
