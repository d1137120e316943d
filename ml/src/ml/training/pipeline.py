"""The tf.data input pipeline: parallel decoding, the service's preprocessing, augmentation.

Images are decoded and preprocessed by the very functions the service runs on uploads
(``ml.images.decoding.decode_radiograph`` and ``ml.images.preprocessing.prepare_input``), wrapped in
``tf.numpy_function`` and mapped in parallel, so the network is trained on exactly the
tensors it will see in production: same crop, same antialiased resize, same scaling.
Augmentation then runs on batches as TensorFlow ops.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from ml.errors import ImageDecodeError
from ml.images.decoding import decode_radiograph
from ml.images.preprocessing import PreprocessingSpec, prepare_input
from ml.training.datasets import ImageSet
from ml.training.monitoring import predict, predictor

# Augmentation ranges (the issue's): rotation up to 10 degrees either way, shifts and zoom
# up to 10 %, brightness and contrast up to 10 % of the grey range.
ROTATION_DEGREES = 10.0
SHIFT_FRACTION = 0.1
ZOOM_FRACTION = 0.1
BRIGHTNESS_FACTOR = 0.1
CONTRAST_FACTOR = 0.1


def load_image(path: str | bytes | Path, spec: PreprocessingSpec, channels: int) -> np.ndarray:
    """One image as the network reads it: float32 (size, size, channels), via the service's code."""
    if isinstance(path, bytes):
        path = path.decode("utf-8")
    try:
        radiograph = decode_radiograph(Path(path).read_bytes())
    except (OSError, ImageDecodeError) as error:
        # tf.numpy_function reports this message, so it must name the file.
        raise ValueError(f"{path}: {error}") from error
    return prepare_input(radiograph, spec, channels).tensor[0]


def augmenter(spec: PreprocessingSpec, seed: int) -> keras.Sequential:
    """Random rotation, shift, zoom, brightness and contrast, for batches in the card's grey range.

    Geometric transforms fill uncovered corners with black (the bottom of the range), as a
    smaller or shifted field of view would look; intensity changes are clipped to the range.
    """
    low, high = spec.scale
    fill = {"fill_mode": "constant", "fill_value": low}
    return keras.Sequential(
        [
            keras.layers.RandomRotation(ROTATION_DEGREES / 360.0, seed=seed, **fill),
            keras.layers.RandomTranslation(SHIFT_FRACTION, SHIFT_FRACTION, seed=seed + 1, **fill),
            keras.layers.RandomZoom((-ZOOM_FRACTION, ZOOM_FRACTION), seed=seed + 2, **fill),
            keras.layers.RandomBrightness(BRIGHTNESS_FACTOR, value_range=(low, high), seed=seed + 3),
            keras.layers.RandomContrast(CONTRAST_FACTOR, value_range=(low, high), seed=seed + 4),
        ],
        name="augmentation",
    )


def make_dataset(
    paths: tuple[Path, ...] | list[Path],
    labels: np.ndarray,
    *,
    spec: PreprocessingSpec,
    channels: int,
    batch_size: int,
    training: bool,
    seed: int = 0,
    augment: bool = True,
    cache: str | None = None,
) -> tf.data.Dataset:
    """Batches of (images, labels); shuffled and augmented when ``training``.

    ``cache`` keeps the decoded, preprocessed images after the first pass: "memory", or a
    file prefix for TensorFlow's on-disk cache (worth it for ChestX-ray14, where decoding
    and resizing a 1024-pixel PNG costs more than a training step on a GPU).
    """
    size = spec.resize
    labels = np.asarray(labels, dtype=np.float32)
    dataset = tf.data.Dataset.from_tensor_slices(([str(path) for path in paths], labels))
    if training and cache is None:
        # Shuffling the file names is free; with a cache, the decoded images are shuffled below.
        dataset = dataset.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)

    def decode(path: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image = tf.numpy_function(
            lambda value: load_image(value, spec, channels), [path], tf.float32, stateful=False
        )
        return tf.ensure_shape(image, (size, size, channels)), label

    dataset = dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=not training)
    if cache is not None:
        dataset = dataset.cache("" if cache == "memory" else cache)
        if training:
            dataset = dataset.shuffle(min(len(paths), 2048), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if training and augment:
        layers = augmenter(spec, seed)
        dataset = dataset.map(
            lambda images, batch_labels: (layers(images, training=True), batch_labels),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=False,
        )
    return dataset.prefetch(tf.data.AUTOTUNE)


def cache_path(
    cache: str | None, split: str, paths: Sequence[Path], spec: PreprocessingSpec, channels: int
) -> str | None:
    """The file prefix of a split's on-disk cache, named after exactly what it holds.

    Another split, image size or channel count gets other files, so a cache folder shared
    by several runs never feeds a run tensors of another's. A lock file left by a run that
    was interrupted while filling the cache would make TensorFlow refuse to start; such a
    run left the cache incomplete anyway, so the lock is removed and the cache refilled.
    """
    if cache is None or cache == "memory":
        return cache
    digest = hashlib.sha256(
        json.dumps([[str(path) for path in paths], spec.to_dict(), channels]).encode("utf-8")
    ).hexdigest()[:16]
    prefix = Path(cache) / f"{split}-{digest}"
    prefix.parent.mkdir(parents=True, exist_ok=True)
    for lock in prefix.parent.glob(f"{prefix.name}*.lockfile"):
        lock.unlink(missing_ok=True)
    return str(prefix)


def predict_images(
    model: keras.Model, images: ImageSet, *, spec: PreprocessingSpec, channels: int, batch_size: int
) -> np.ndarray:
    """``model``'s outputs for every image of ``images`` (not augmented), in order, as float64."""
    dataset = make_dataset(
        images.paths, images.labels, spec=spec, channels=channels, batch_size=batch_size, training=False
    )
    return predict(predictor(model), dataset)
