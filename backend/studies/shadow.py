"""A shadow candidate's results on live studies: stored beside the active model's, never shown.

The findings worker runs the candidate (deployments: other weights, or the same weights under
another threshold profile) on the same batch right after the active model's results are stored.
Under the same weights the network's probabilities are the active run's, judged under the
candidate's thresholds, so nothing runs twice. A failing candidate is logged and never fails a study.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ml.classifier.aggregation import aggregate_findings
from ml.classifier.analyser import CLASSIFIER, ClassifierResult
from ml.prepared import PreparedImage
from studies.models import ShadowResult, Study, StudyImage, StudyStatus
from studies.prepared import prepared_input

if TYPE_CHECKING:
    from studies.inference import WorkerModels

logger = logging.getLogger(__name__)


def shadow_results_store(
    *,
    models: WorkerModels,
    batch: list[tuple[Study, list[StudyImage], list[PreparedImage]]],
    active_raw: list[ClassifierResult],
) -> None:
    """Run ``models.shadow`` on ``batch`` (whose active results ``active_raw`` are, image by image)
    and keep its study-level findings for each study of the batch the active model finished."""
    shadow, pipeline = models.shadow, models.shadow_pipeline
    if shadow is None or pipeline is None:
        return
    try:
        if shadow.same_weights_as(models.active):
            raw = active_raw
        else:
            inputs = [
                prepared_input(image, pipeline, kind=CLASSIFIER) for _, images, _ in batch for image in images
            ]
            raw = pipeline.run(CLASSIFIER, inputs)
        results = iter([shadow.result_of(result) for result in raw])
        done = set(
            Study.objects.filter(
                pk__in=[study.pk for study, _, _ in batch], status=StudyStatus.DONE
            ).values_list("pk", flat=True)
        )
        for study, images, _ in batch:
            per_image = [next(results) for _ in images]
            if study.pk not in done:
                continue
            card = per_image[0].card
            findings = aggregate_findings([list(result.findings) for result in per_image], card)
            ShadowResult.objects.update_or_create(
                study=study,
                deployment_id=shadow.deployment_id,
                defaults={
                    "model_card": card.to_dict(),
                    "threshold_profile": shadow.profile_summary,
                    "findings": [finding.to_dict() for finding in findings],
                },
            )
    except Exception:
        logger.exception(
            "The shadow candidate failed on studies %s", [str(study.id) for study, _, _ in batch]
        )
