"""Chest CT series as studies: the CT analyser's run, its result, and its cached answers.

A CT study (its one image, the key image, of kind ``ct``) is created by studies.services from an upload that
``ml.ct.intake.is_ct_series`` routes here. The worker scores it with the pipeline's CT analyser
(``Pipeline.run("ct", ...)``) instead of the classifier: the result is one ``AnalyserRun`` of kind
``ct`` (its card, each slice's probability, the patient's, the threshold, the aggregation rule;
``score`` the patient's probability) and the study is done with no findings, its ``model_card``
the CT card, so the untrained warning follows it wherever a study's card is shown.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from common.dependencies import CACHE_ERRORS
from common.errors import DomainError
from common.jobs import job_done
from ml.analyser import AnalyserCard, AnalyserResult, read_result
from ml.ct.analyser import CTAnalyser, CTResult
from ml.ct.card import CT_KIND
from ml.ct.intake import PreparedCT
from ml.pipeline import Pipeline
from studies import storage
from studies.events import study_events_publish
from studies.models import AnalyserRun, ImageKind, Study, StudyStatus
from studies.selectors import analyser_run_result

logger = logging.getLogger(__name__)

# The kind of the AnalyserRun that holds a CT study's result.
CT = CT_KIND


def ct_study_analyze(*, study: Study, pipeline: Pipeline) -> None:
    """Score a claimed CT study's prepared slices and store its result (it raises on failure;
    the caller fails the study with the message)."""
    prepared = PreparedCT.from_bytes(storage.read_file(study.key_image.model_input_file.name))
    [result] = pipeline.run(CT, [prepared])
    card = result.card.to_dict()
    with transaction.atomic():
        ct_study_complete(study=study, card=card, result=result, from_cache=False)
    try:
        ct_cached_result_put(
            card=pipeline.card(CT), sha256=study.key_image.image_sha256, card_dict=card, result=result
        )
    except CACHE_ERRORS as error:
        # The study is done; a cache that is down only costs a later identical upload a run.
        logger.warning("CT result of study %s not cached: %s", study.id, error)


def ct_study_complete(
    *, study: Study, card: dict[str, Any], result: AnalyserResult, from_cache: bool
) -> None:
    """Store the CT run and mark the study done (call inside a transaction)."""
    now = timezone.now()
    AnalyserRun.objects.update_or_create(
        study=study,
        kind=CT,
        defaults={
            "status": StudyStatus.DONE,
            "card": card,
            "result": result.to_dict(),
            "score": result.score,
            "message": "",
            "started_at": study.started_at or now,
            "finished_at": now,
        },
    )
    if from_cache:
        study.started_at = now
    study.model_card = card
    study.from_cache = from_cache
    job_done(study, "model_card", "from_cache")
    study_events_publish([study.id])


def ct_result_of(study: Study) -> CTResult | None:
    """The stored CT result of a done CT study, else None."""
    run = study.analyser_runs.filter(kind=CT, status=StudyStatus.DONE).first()
    result = analyser_run_result(run) if run is not None else None
    return result if isinstance(result, CTResult) else None


def ct_cache_key(*, card: AnalyserCard, sha256: str) -> str:
    # The card's identity names the model: other weights never get an old answer.
    return f"ct-result:{card.cache_identity}:{sha256}"


def ct_cached_result_get(*, card: AnalyserCard, sha256: str) -> tuple[dict[str, Any], AnalyserResult] | None:
    """The card (as stored) and the typed result cached for this series' bytes and this card, if any."""
    value = cache.get(ct_cache_key(card=card, sha256=sha256))
    return (value["card"], read_result(CTAnalyser, value["result"], value["card"])) if value else None


def ct_cached_result_put(
    *, card: AnalyserCard, sha256: str, card_dict: dict[str, Any], result: AnalyserResult
) -> None:
    cache.set(
        ct_cache_key(card=card, sha256=sha256),
        {"card": card_dict, "result": result.to_dict()},
        settings.CXR_RESULT_CACHE_SECONDS,
    )


def refuse_ct_export(study: Study, export: str) -> None:
    """400 for an export made for radiograph findings (the PDF report) of a CT study: its result
    is the CT panel's, which that format does not carry yet."""
    if study.key_image.kind == ImageKind.CT:
        raise DomainError(
            f"A CT study has no {export}: its result is shown on the study page and in the API (ct).",
            status_code=400,
            extra={"kind": ImageKind.CT},
        )
