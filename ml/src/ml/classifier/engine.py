"""The inference engine: one built model per process, probabilities and heatmaps per image.

Two runtimes compute the same network. On a CPU the engine runs DenseNet121 on OpenVINO
(``ml.classifier.runtime_openvino``) in float32, built from the weights file without TensorFlow: on
the reference 2-core CPU it is as fast as ONNX Runtime and about 1.7 times as fast as
TensorFlow (README, "Performance"), and a worker starts in under a second. The Keras model
on TensorFlow (``ml.classifier.runtime_keras``) stays the reference that the tests hold every runtime
to, and runs where a GPU is visible. ``$CXR_BACKEND`` (``auto``, ``openvino``, ``keras``)
overrides the choice. On OpenVINO, an int8 form of the weights that ``python -m ml quantize``
accepted replaces float32 where ``ml.classifier.forms`` finds it valid and fit for this CPU.

Build the engine inside each worker process after it forks (``InferenceEngine.load`` in
Celery's ``worker_process_init`` or a lazily built per-process singleton), never at import
time in a parent process: neither TensorFlow nor OpenVINO's thread pools survive a fork.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ml.classifier.architecture import DenseNetWeights, seeded_untrained_weights, weights_digest
from ml.classifier.card import ModelCard
from ml.classifier.explanations.gradcam import class_activation_maps
from ml.classifier.registry import UNTRAINED_SEED, WEIGHTS_FILENAME, describe_active_model
from ml.engine.backend import checked_threads, resolve_backend

if TYPE_CHECKING:
    import keras


class Runtime(Protocol):
    """What the engine needs of a runtime: one pass giving feature maps and probabilities."""

    name: str

    @property
    def head_kernel(self) -> np.ndarray: ...

    def run(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


class InferenceEngine:
    """A built DenseNet121 with its card, answering probabilities and Grad-CAM in one pass."""

    def __init__(self, model: keras.Model | None, card: ModelCard, *, runtime: Runtime | None = None) -> None:
        """Wrap a Keras ``model`` (run on TensorFlow) or, with ``runtime``, any runtime.

        ``model`` may be None when a runtime is given; ``model`` is then built on first use.
        """
        if runtime is None:
            if model is None:
                raise ValueError("InferenceEngine needs a Keras model or a runtime.")
            from ml.classifier.runtime_keras import KerasRuntime
            from ml.weights.directory import check_model_matches_card

            check_model_matches_card(model, card)
            runtime = KerasRuntime(model)
        self._model = model
        self._runtime = runtime
        self._card = card
        self._weights: DenseNetWeights | None = None

    @classmethod
    def load(
        cls,
        weights_dir: str | os.PathLike[str] | None = None,
        *,
        threads: int | None = None,
        backend: str | None = None,
    ) -> InferenceEngine:
        """Build the model once: installed weights from ``weights_dir``, else seeded untrained ones.

        ``threads`` is the number of CPU threads inference may use (default: the CPUs this
        process may run on); ``backend`` overrides ``$CXR_BACKEND``. Raises WeightsError for
        any problem with the weights directory; no partly loaded model is ever returned.
        """
        threads = checked_threads(threads)
        # The card is validated (and the weights hash checked) before any runtime does work.
        card = describe_active_model(weights_dir)
        chosen = resolve_backend(backend)
        if weights_dir is None:
            # NumPy draws the untrained arrays, so no framework is imported to make them; their
            # hash is only known now that they exist (there is no file to hash).
            weights = seeded_untrained_weights(card.input_channels, len(card.labels), UNTRAINED_SEED)
            card = dataclasses.replace(
                card, weights_sha256=weights_digest(weights, card.input_channels, len(card.labels))
            )
        else:
            from ml.classifier.h5 import read_densenet_weights

            weights_path = Path(weights_dir).expanduser().resolve() / WEIGHTS_FILENAME
            weights = read_densenet_weights(weights_path, card.input_channels, len(card.labels))
        if chosen == "keras":
            from ml.classifier.network import assign_densenet_weights, build_densenet121
            from ml.engine.keras_forward import configure_threads

            configure_threads(threads)
            model = build_densenet121(len(card.labels), card.input_channels, card.input_size)
            assign_densenet_weights(model, weights)
            return cls(model, _card_in_use(card, "keras-tensorflow"))
        from ml.classifier.forms import choose_form
        from ml.classifier.runtime_openvino import OpenVINORuntime

        # The fastest form the card accepts for this CPU (its files checked), else float32.
        form = choose_form(card, weights_dir) if weights_dir is not None else None
        runtime = OpenVINORuntime(
            weights,
            card.input_channels,
            card.input_size,
            threads=threads,
            quantized_model=form.model_path if form is not None else None,
        )
        engine = cls(None, _card_in_use(card, runtime.name), runtime=runtime)
        engine._weights = weights
        return engine

    @property
    def card(self) -> ModelCard:
        return self._card

    @property
    def backend(self) -> str:
        """What computes the network: ``openvino-f32``, ``openvino-int8`` or ``keras-tensorflow``."""
        return self._runtime.name

    @property
    def model(self) -> keras.Model:
        """The Keras model with this engine's weights (built on first use when OpenVINO runs)."""
        if self._model is None:
            from ml.classifier.network import assign_densenet_weights, build_densenet121

            if self._weights is None:
                raise RuntimeError("This engine has neither a Keras model nor the arrays to build one.")
            model = build_densenet121(
                len(self._card.labels), self._card.input_channels, self._card.input_size
            )
            assign_densenet_weights(model, self._weights)
            self._model = model
        return self._model

    def explain(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities (N, C) and normalised Grad-CAM maps (N, C, h, w) for a batch of inputs.

        ``images`` are already preprocessed, shape (N, size, size, channels). One forward
        pass yields both: the maps come from the feature map and the dense head's kernel.
        """
        images = self._checked(images)
        feature_maps, probabilities = self._runtime.run(images)
        maps = class_activation_maps(feature_maps, self._runtime.head_kernel)
        return probabilities, maps

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Probabilities (N, C) for a batch of preprocessed inputs, on this engine's runtime."""
        _, probabilities = self._runtime.run(self._checked(images))
        return probabilities

    def save(
        self,
        directory: str | os.PathLike[str],
        *,
        trained: bool,
        name: str | None = None,
        version: str | None = None,
        thresholds: dict[str, float] | None = None,
        training_data: str | None = None,
        validation: dict[str, Any] | None = None,
    ) -> ModelCard:
        """Write this engine's weights and a card into ``directory``; return the card written.

        Unset fields keep this engine's card values; the card is validated before writing.
        """
        from ml.weights.directory import save_weights_directory

        fields = self._card.to_dict()
        fields.update(
            trained=trained,
            name=name if name is not None else self._card.name,
            version=version if version is not None else self._card.version,
            thresholds=thresholds if thresholds is not None else dict(self._card.thresholds),
            training_data=training_data,
            validation=validation,
            weights_sha256=None,
        )
        # Quantized forms belong to the weights file they were made from, which is not copied.
        fields.pop("inference", None)
        return save_weights_directory(self.model, directory, ModelCard.from_dict(fields))

    def _checked(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images, dtype=np.float32)
        expected = (self._card.input_size, self._card.input_size, self._card.input_channels)
        if images.ndim != 4 or images.shape[1:] != expected:
            size, _, channels = expected
            raise ValueError(f"Expected images of shape (N, {size}, {size}, {channels}), got {images.shape}.")
        return images


def _card_in_use(card: ModelCard, backend: str) -> ModelCard:
    """The card saying which form computes its results, where its weights come in several forms.

    Cards without quantized forms stay as the registry describes them, so the web process's
    card and the worker's card remain equal.
    """
    if card.inference is None:
        return card
    return dataclasses.replace(card, inference={**card.inference, "in_use": backend})


def configure_threads(threads: int | None = None) -> None:
    """Set TensorFlow's intra-op threads to ``threads`` (default: available CPUs), inter-op to 1-2.

    Kept here for callers that drive TensorFlow themselves; see ``ml.engine.keras_forward``.
    """
    from ml.engine.keras_forward import configure_threads as configure_tensorflow_threads

    configure_tensorflow_threads(checked_threads(threads))
