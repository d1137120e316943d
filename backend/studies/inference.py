"""The model as the service sees it: the active card (cheap, any process) and the engine (workers only).

The engine builds TensorFlow state, which is not fork-safe, so it is created lazily inside the process
that runs analyses (a Celery worker child after the fork, or the embedded analysis thread), once per
process, never at import time.
"""

import threading
from typing import TYPE_CHECKING

from django.conf import settings

from ml.card import ModelCard
from ml.registry import describe_active_model
from observability.metrics import observe_model_load

if TYPE_CHECKING:
    from ml.engine import InferenceEngine

_engine: "InferenceEngine | None" = None
_engine_lock = threading.Lock()


def active_model_card() -> ModelCard:
    """The card of the configured model, read without loading TensorFlow."""
    return describe_active_model(settings.CXR_WEIGHTS)


def get_engine() -> "InferenceEngine":
    # Imported here: ml.engine loads TensorFlow, which web processes never need.
    from ml.engine import InferenceEngine

    global _engine
    with _engine_lock:
        if _engine is None:
            with observe_model_load():
                _engine = InferenceEngine.load(settings.CXR_WEIGHTS, threads=settings.CXR_MODEL_THREADS)
        return _engine
