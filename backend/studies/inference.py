"""The model as the service sees it: the active card (cheap, any process) and one pipeline per process.

What analyses is the active deployment (deployments: weights and an optional site threshold
profile; the boot default is CXR_WEIGHTS with its card's thresholds), read once per upload and per
task, so an admin's activation, promotion or rollback reaches every process without a restart. A
deployment of other weights than CXR_WEIGHTS gets its own classifier pipeline, built once per process
on first use, as does a shadow candidate's.

The pipeline builds the networks (OpenVINO or TensorFlow state, neither fork-safe) only in the
process that runs them (a Celery worker child after the fork, or the embedded analysis threads),
never at import time: the findings worker builds the classifier, the analysers' worker every
configured analyser (studies.tasks). The web process only takes uploads in through it, which needs no network.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.dispatch import Signal

from deployments.selectors import DeployedModel, boot_default, deployment_active, deployment_shadow
from ml.analysers import AnalyserWeights
from ml.classifier.analyser import CLASSIFIER
from ml.classifier.card import ModelCard
from ml.ct.card import CT_KIND
from ml.pipeline import Pipeline

# Sent, with ``seconds``, each time this process built networks: observability subscribes (its
# AppConfig.ready), so the core does not name its metrics.
model_loaded = Signal()

_pipeline: Pipeline | None = None
# The classifier pipelines of deployments whose weights are not CXR_WEIGHTS, by weights directory.
_other_pipelines: dict[str, Pipeline] = {}
_pipeline_lock = threading.Lock()


def active_model_card() -> ModelCard:
    """The card of the active deployment (its profile's thresholds applied), read without building
    it: the result cache's key, and the card results are made under."""
    return deployment_active().card()


def intake_models() -> tuple[Pipeline, ModelCard]:
    """This process's pipeline (the intake) and the active deployment's card (the result cache's key)."""
    return analysis_pipeline(), active_model_card()


@dataclass(frozen=True)
class WorkerModels:
    """What one findings task runs, read once at its start: this process's pipeline (the intake, the CT
    analyser), the active deployment with its classifier's pipeline, and the shadow candidate's."""

    pipeline: Pipeline
    active: DeployedModel
    active_pipeline: Pipeline
    shadow: DeployedModel | None
    shadow_pipeline: Pipeline | None


def worker_models() -> WorkerModels:
    pipeline = ready_pipeline()
    active, shadow = deployment_active(), deployment_shadow()
    return WorkerModels(
        pipeline=pipeline,
        active=active,
        active_pipeline=classifier_pipeline(active, default=pipeline),
        shadow=shadow,
        shadow_pipeline=classifier_pipeline(shadow, default=pipeline) if shadow is not None else None,
    )


def classifier_pipeline(model: DeployedModel, *, default: Pipeline) -> Pipeline:
    """The pipeline whose classifier is ``model``'s weights: ``default`` for CXR_WEIGHTS', otherwise
    one per weights directory, its network built on its first run."""
    if model.same_weights_as(boot_default()):
        return default
    with _pipeline_lock:
        key = model.weights_dir or ""
        if key not in _other_pipelines:
            _other_pipelines[key] = Pipeline(model.weights_dir, threads=settings.CXR_MODEL_THREADS)
        return _other_pipelines[key]


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
