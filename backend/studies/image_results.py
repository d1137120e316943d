"""Each analysed image's result, and the study's: its images' findings aggregated by the card's rule.

An image's result (findings and small heatmaps) is what the model, or the result cache keyed by
that image's content, said of it. The study's findings aggregate them by the card's
``study_aggregation`` (ml.classifier.aggregation): for a study of one image they equal its own.
The study's heatmaps are its key image's own (Study.key_image), as the PDF and the PACS objects
show that image.
"""

from collections.abc import Sequence
from dataclasses import asdict

from ml.classifier.aggregation import aggregate_findings
from ml.classifier.card import ModelCard
from ml.classifier.postprocess import Finding
from studies.models import ImageFinding, Study, StudyImage
from studies.result_cache import CachedFinding, CachedResult

ImageResults = Sequence[tuple[StudyImage, CachedResult]]


def image_results_store(*, study: Study, results: ImageResults) -> CachedResult:
    """Replace the image findings of ``study`` with ``results`` (one per analysed image, in the
    images' order) and answer the study's result (``study_result``) for its own findings."""
    ImageFinding.objects.filter(image__study=study).delete()
    ImageFinding.objects.bulk_create(
        ImageFinding(image=image, **asdict(finding))
        for image, result in results
        for finding in result.findings
    )
    for image, result in results:
        image.heatmaps_file = result.heatmaps_file
        image.save(update_fields=["heatmaps_file"])
    return study_result(results)


def study_result(results: ImageResults) -> CachedResult:
    """The study's result: the findings aggregated over its analysed images, the key image's heatmaps.

    ``results`` come in the images' order, so the first is the key image's. The card is the one that
    produced them (the worker's, or the cached results'), whose rule therefore applies.
    """
    if not results:
        raise ValueError("A study's result needs at least one analysed image.")
    key_result = results[0][1]
    card = ModelCard.from_dict(key_result.model_card)
    per_image = [[Finding(**asdict(finding)) for finding in result.findings] for _, result in results]
    return CachedResult(
        model_card=key_result.model_card,
        findings=tuple(CachedFinding(**finding.to_dict()) for finding in aggregate_findings(per_image, card)),
        heatmaps_file=key_result.heatmaps_file,
        threshold_profile=key_result.threshold_profile,
    )
