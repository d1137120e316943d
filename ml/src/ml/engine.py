"""The inference engine: one built model per process, probabilities and heatmaps per image.

TensorFlow is not fork-safe once initialised, so build the engine inside each worker
process after it forks (``InferenceEngine.load`` in Celery's ``worker_process_init`` or a
lazily built per-process singleton), never at import time in a parent process.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ml.card import ModelCard
from ml.gradcam import class_activation_maps, maps_to_radiograph_frame
from ml.imaging import Radiograph
from ml.model import (
    build_densenet121,
    feature_map_model,
    initialise_seeded,
    logits_kernel,
    weights_digest,
)
from ml.preprocessing import PreprocessingSpec, prepare_input
from ml.registry import UNTRAINED_SEED, WEIGHTS_FILENAME, describe_active_model
from ml.weights import check_model_matches_card, load_weights_file, save_weights_directory

logger = logging.getLogger(__name__)


@dataclass
class Analysis:
    """What the model says about one radiograph.

    ``heatmaps`` holds one float32 Grad-CAM map per label at the radiograph's own size,
    values in [0, 1], zero outside the centre square the network saw.
    """

    probabilities: dict[str, float]
    heatmaps: dict[str, np.ndarray]


class InferenceEngine:
    """A built DenseNet121 with its card, answering probabilities and Grad-CAM in one pass."""

    def __init__(self, model: keras.Model, card: ModelCard) -> None:
        check_model_matches_card(model, card)
        self._model = model
        self._card = card
        self._spec = PreprocessingSpec.from_dict(card.preprocessing)
        self._explainer = feature_map_model(model)
        # A fixed signature (any batch size) means one trace per process, not one per call.
        self._forward = tf.function(
            self._forward_pass,
            input_signature=[
                tf.TensorSpec(
                    (None, card.input_size, card.input_size, card.input_channels), tf.float32, name="images"
                )
            ],
        )

    @classmethod
    def load(
        cls, weights_dir: str | os.PathLike[str] | None = None, *, threads: int | None = None
    ) -> InferenceEngine:
        """Build the model once: installed weights from ``weights_dir``, else seeded untrained ones.

        ``threads`` sets TensorFlow's intra-op threads (default: the CPUs this process may
        run on). Raises WeightsError for any problem with the weights directory; no
        partly loaded model is ever returned.
        """
        # The card is validated (and the weights hash checked) before TensorFlow does any work.
        card = describe_active_model(weights_dir)
        configure_threads(threads)
        model = build_densenet121(len(card.labels), card.input_channels, card.input_size)
        if weights_dir is None:
            initialise_seeded(model, UNTRAINED_SEED)
            # The untrained weights are only known now that they exist, so the hash is of the
            # arrays themselves (there is no file to hash).
            card = dataclasses.replace(card, weights_sha256=weights_digest(model))
        else:
            load_weights_file(model, Path(weights_dir).expanduser().resolve() / WEIGHTS_FILENAME)
        return cls(model, card)

    @property
    def card(self) -> ModelCard:
        return self._card

    @property
    def model(self) -> keras.Model:
        return self._model

    def analyze(self, radiograph: Radiograph) -> Analysis:
        """Probabilities and per-finding heatmaps for one radiograph."""
        model_input = prepare_input(radiograph, self._spec, self._card.input_channels)
        probabilities, maps = self.explain(model_input.tensor)
        heatmaps = maps_to_radiograph_frame(maps[0], model_input.crop, radiograph.width, radiograph.height)
        labels = self._card.labels
        return Analysis(
            probabilities={
                label: float(value) for label, value in zip(labels, probabilities[0], strict=True)
            },
            heatmaps={label: heatmaps[index] for index, label in enumerate(labels)},
        )

    def explain(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities (N, C) and normalised Grad-CAM maps (N, C, h, w) for a batch of inputs.

        ``images`` are already preprocessed, shape (N, size, size, channels). One forward
        pass yields both: the maps come from the feature map and the dense head's kernel.
        """
        images = np.asarray(images, dtype=np.float32)
        expected = (self._card.input_size, self._card.input_size, self._card.input_channels)
        if images.ndim != 4 or images.shape[1:] != expected:
            size, _, channels = expected
            raise ValueError(f"Expected images of shape (N, {size}, {size}, {channels}), got {images.shape}.")
        feature_maps, probabilities = self._forward(tf.constant(images))
        # The kernel is read on each call so the maps always use the weights the pass used.
        maps = class_activation_maps(feature_maps.numpy(), logits_kernel(self._model))
        return probabilities.numpy().astype(np.float32), maps

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
        return save_weights_directory(self._model, directory, ModelCard.from_dict(fields))

    def _forward_pass(self, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        feature_maps, logits = self._explainer(images, training=False)
        return feature_maps, tf.sigmoid(logits)


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, which containers and taskset narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def configure_threads(threads: int | None = None) -> None:
    """Set TensorFlow's intra-op threads to ``threads`` (default: available CPUs), inter-op to 1-2.

    This only works before TensorFlow runs its first op; later, a differing request is
    logged and ignored, because TensorFlow cannot change its thread pools once created.
    """
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer, not {threads!r}.")
    intra = threads if threads is not None else available_cpus()
    # DenseNet is one long chain of layers: more than two independent ops rarely run at once.
    inter = min(2, intra)
    current = (
        tf.config.threading.get_intra_op_parallelism_threads(),
        tf.config.threading.get_inter_op_parallelism_threads(),
    )
    if current == (intra, inter):
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    except RuntimeError:
        logger.warning(
            "TensorFlow was already initialised with %s intra-op / %s inter-op threads; "
            "keeping them instead of the requested %s / %s.",
            *current,
            intra,
            inter,
        )
