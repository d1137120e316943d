"""The model as the service sees it: the active card (cheap, any process) and one pipeline per process.

The pipeline builds the networks (OpenVINO or TensorFlow state, neither fork-safe) only in the
process that runs them (a Celery worker child after the fork, or the embedded analysis threads),
never at import time: the findings worker builds the classifier, the analysers' worker every
configured analyser (studies.tasks). The web process only takes uploads in through it, which needs no network.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.dispatch import Signal

from ml.analysers import AnalyserWeights
from ml.classifier.analyser import CLASSIFIER
from ml.classifier.card import ModelCard
from ml.classifier.registry import describe_active_model
from ml.ct.card import CT_KIND
from ml.pipeline import Pipeline

# Sent, with ``seconds``, each time this process built networks: observability subscribes (its
# AppConfig.ready), so the core does not name its metrics.
model_loaded = Signal()

_pipeline: Pipeline | None = None
_pipeline_lock = threading.Lock()


def active_model_card() -> ModelCard:
    """The card of the configured model, read without building it (the result cache's key)."""
    return describe_active_model(settings.CXR_WEIGHTS)


def analysis_pipeline() -> Pipeline:
    """This process's pipeline; its networks are not built until something analyses."""
    global _pipeline
    with _pipeline_lock:
        if _pipeline is None:
            analysers = AnalyserWeights(
                kinds=(*settings.CXR_ANALYSERS, CT_KIND), directories=settings.CXR_ANALYSER_WEIGHTS
            )
            _pipeline = Pipeline(
                settings.CXR_WEIGHTS, threads=settings.CXR_MODEL_THREADS, analysers=analysers
            )
        return _pipeline


def ready_pipeline() -> Pipeline:
    """This process's pipeline with what the findings worker runs built: the classifier (each study's
    findings) and the CT analyser (a CT study is scored in the same task); timed as a model load."""
    pipeline = analysis_pipeline()
    if not pipeline.analysers.is_built(CLASSIFIER):
        with model_load_timed():
            pipeline.build((CLASSIFIER, CT_KIND))
    return pipeline


def ready_analysers() -> Pipeline:
    """This process's pipeline with every analyser that runs after a study's findings built (the
    analysers' worker, at start), timed as a model load."""
    pipeline = analysis_pipeline()
    with model_load_timed():
        pipeline.build(settings.CXR_ANALYSERS)
    return pipeline


@contextmanager
def model_load_timed() -> Iterator[None]:
    started = time.perf_counter()
    yield
    model_loaded.send(sender=Pipeline, seconds=time.perf_counter() - started)


def analyser_cards() -> list[dict[str, Any]]:
    """The cards of the analysers beside the classifier that run here, read without building them."""
    pipeline = analysis_pipeline()
    return [pipeline.card(kind).to_dict() for kind in settings.CXR_ANALYSERS]
