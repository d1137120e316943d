"""SmoothGrad (Smilkov et al., 2017): gradient saliency averaged over noisy copies of the input.

Single gradients are speckled by the ReLUs' on/off pattern; averaging the magnitudes over copies
with Gaussian noise keeps what is stable. The noise is seeded, so one input gets one map.
"""

from __future__ import annotations

import keras
import numpy as np

from ml.classifier.explanations.gradients import logit_gradients
from ml.classifier.explanations.settings import SmoothGradSettings

NOISE_SEED = 0


def smoothgrad(
    model: keras.Model, image: np.ndarray, class_index: int, settings: SmoothGradSettings
) -> np.ndarray:
    """The (H, W) mean over noisy copies of the largest absolute gradient over channels.

    The noise's standard deviation is ``settings.noise`` times the input's value range.
    """
    spread = float(image.max() - image.min()) or 1.0
    noise = np.random.default_rng(NOISE_SEED).normal(
        0.0, settings.noise * spread, size=(settings.samples, *image.shape)
    )
    _, gradients = logit_gradients(model, (image[np.newaxis] + noise).astype(np.float32), class_index)
    return np.abs(gradients).max(axis=-1).mean(axis=0)
