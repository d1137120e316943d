"""A study's anatomy segmentation as the viewer and the PDF see it: outlines and masks on request.

The worker keeps the masks small (ml.segmentation's npz); outlines are traced from them when asked.
"""

from typing import Any

from common.errors import DomainError
from ml.segmentation.analyser import Segmentation
from studies import storage
from studies.models import AnalyserRun, Study, StudyStatus


def study_segmentation(*, run: AnalyserRun) -> Segmentation:
    """The masks of a finished segmentation run; 409 while the run has not finished."""
    if run.status != StudyStatus.DONE or not run.result_file:
        raise DomainError(
            f"The segmentation is {run.status}; its outlines exist once it is done.",
            status_code=409,
            extra={"status": run.status},
        )
    return Segmentation.from_bytes(storage.read_file(run.result_file.name))


def segmentation_outlines(*, study: Study, run: AnalyserRun) -> dict[str, Any]:
    segmentation = study_segmentation(run=run)
    return {
        "width": study.key_image.width,
        "height": study.key_image.height,
        "trained": bool(run.card and run.card.get("trained")),
        "structures": [
            {"name": name, "outlines": segmentation.contours(name)} for name in segmentation.structures
        ],
    }
