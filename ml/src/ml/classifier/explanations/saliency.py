"""Vanilla gradient saliency (Simonyan et al., 2014): how strongly each pixel moves the finding's logit."""

from __future__ import annotations

import keras
import numpy as np

from ml.classifier.explanations.gradients import logit_gradients


def saliency(model: keras.Model, image: np.ndarray, class_index: int) -> np.ndarray:
    """The (H, W) relevance of ``image`` (H, W, C): the largest absolute gradient over its channels."""
    _, gradients = logit_gradients(model, image[np.newaxis], class_index)
    return np.abs(gradients[0]).max(axis=-1)
