"""The model as the service sees it: the active card (cheap, any process) and one pipeline per process.

The pipeline builds the networks (OpenVINO or TensorFlow state, neither fork-safe) only in the
process that runs them (a Celery worker child after the fork, or the embedded analysis threads),
never at import time: the findings worker builds the classifier, the analysers' worker every
configured analyser (studies.tasks). The web process only takes uploads in through it, which needs no network.
"""

import threading
from typing import Any

from django.conf import settings

from ml.analysers import AnalyserWeights
from ml.pipeline import Pipeline
from ml.weights.card import ModelCard
from ml.weights.registry import describe_active_model
from observability.metrics import observe_model_load

_pipeline: Pipeline | None = None
_pipeline_lock = threading.Lock()


def active_model_card() -> ModelCard:
    """The card of the configured model, read without building it (the result cache's key)."""
    return describe_active_model(settings.CXR_WEIGHTS)


def analysis_pipeline() -> Pipeline:
    """This process's pipeline; its network is not built until something analyses."""
    global _pipeline
    with _pipeline_lock:
        if _pipeline is None:
            analysers = AnalyserWeights(
                kinds=settings.CXR_ANALYSERS,
                segmentation=settings.CXR_SEGMENTATION_WEIGHTS,
                screener=settings.CXR_SCREENER_WEIGHTS,
            )
            _pipeline = Pipeline(
                settings.CXR_WEIGHTS,
                threads=settings.CXR_MODEL_THREADS,
                analysers=analysers,
                ct_weights=settings.CXR_CT_WEIGHTS,
            )
        return _pipeline


def ready_pipeline() -> Pipeline:
    """This process's pipeline with its network built, the build timed as the model's load time."""
    pipeline = analysis_pipeline()
    if not pipeline.engine_built:
        with observe_model_load():
            pipeline.engine  # noqa: B018 (building the engine is the point)
    return pipeline


def ready_analysers() -> Pipeline:
    """This process's pipeline with every configured analyser's network built, timed as a model load."""
    pipeline = analysis_pipeline()
    if pipeline.analysers is not None:
        with observe_model_load():
            pipeline.analysers.load_all()
    return pipeline


def analyser_cards() -> list[dict[str, Any]]:
    """The cards of the analysers beside the classifier that run here, read without building them."""
    analysers = analysis_pipeline().analysers
    if analysers is None:
        return []
    return [analysers.card(kind).to_dict() for kind in analysers.kinds]
