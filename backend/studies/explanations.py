"""Computing and drawing a finding's explanation by one method (ml.classifier.explanations), in the worker.

``explanation_compute`` claims a queued row (studies.explanation_requests queues them), runs
``Pipeline.explain`` of the weights that analysed the study on the input the web process prepared
for it, and stores the small map and its faithfulness scores; ``explanation_png`` draws a computed
map on request.
"""

import logging

import numpy as np
from django.db import transaction

from common.errors import DomainError
from common.jobs import claimable, job_done, job_fail, job_kind_of, jobs_claim
from deployments.selectors import weights_installed
from ml.classifier.analyser import CLASSIFIER
from ml.classifier.explanations.explanation import Explanation as ComputedExplanation
from ml.classifier.explanations.heatmaps import FILE_EXTENSION
from ml.images.rendering import heatmap_png
from studies import storage
from studies.analysis import prepared_input
from studies.inference import classifier_pipeline, ready_pipeline
from studies.models import Explanation, StudyStatus

logger = logging.getLogger(__name__)


def explanation_compute(*, explanation_id: int, claimant: str = "") -> None:
    """Compute a queued explanation as the task ``claimant``; a row another task holds, done or gone
    is left alone."""
    with transaction.atomic():
        explanation = (
            Explanation.objects.select_for_update()
            .select_related("study")
            .filter(claimable(claimant), pk=explanation_id)
            .first()
        )
        if explanation is None or not jobs_claim(job_kind_of(Explanation), [explanation], claimant=claimant):
            return
    # The network that analysed the study explains it, not whichever is active now: after a promotion
    # to other weights, a map of the new network would explain findings it did not make.
    card = explanation.study.model_card or {}
    pipeline = ready_pipeline()
    if card.get("weights_sha256") != pipeline.engine.card.weights_sha256:
        model = weights_installed(card)
        if model is None:
            job_fail(
                explanation,
                message="The weights that analysed this study are no longer installed here, so no "
                f"method can explain its findings (weights SHA-256 {card.get('weights_sha256')}).",
            )
            return
        pipeline = classifier_pipeline(model, default=pipeline)
    try:
        prepared = prepared_input(explanation.study.key_image, pipeline, kind=CLASSIFIER)
        computed = pipeline.explain(prepared, explanation.label, explanation.method)
        map_file = storage.write_file(
            storage.explanation_path(
                explanation.study_id, explanation.label, explanation.method, FILE_EXTENSION
            ),
            computed.to_bytes(),
        )
    except Exception as error:
        logger.exception(
            "Explanation %s (%s of %s) failed", explanation_id, explanation.method, explanation.label
        )
        job_fail(explanation, message=f"The explanation failed: {error}")
        return
    card = pipeline.engine.card
    explanation.map_file = map_file
    explanation.deletion_auc = computed.deletion_auc
    explanation.insertion_auc = computed.insertion_auc
    explanation.parameters = computed.parameters
    explanation.seconds = computed.seconds
    explanation.model_card = {"name": card.name, "version": card.version, "trained": card.trained}
    job_done(explanation, "map_file", "deletion_auc", "insertion_auc", "parameters", "seconds", "model_card")


def explanation_map(explanation: Explanation) -> np.ndarray:
    """The explanation's map in [0, 1] at the radiograph's size."""
    if explanation.status != StudyStatus.DONE:
        raise DomainError(
            "The explanation is not computed yet.", status_code=409, extra={"status": explanation.status}
        )
    return ComputedExplanation.from_bytes(storage.read_file(explanation.map_file.name)).at_radiograph_size()


def explanation_png(explanation: Explanation) -> bytes:
    """The map as an RGBA PNG overlay at the radiograph's size (the Grad-CAM heatmap's colours)."""
    return heatmap_png(explanation_map(explanation))
