"""Integrated gradients (Sundararajan et al., 2017) of a finding's logit, from a baseline to the input.

The path integral is the trapezoid rule over ``steps`` equal intervals, so its attributions sum
to logit(input) - logit(baseline) up to the rule's error (completeness), which the tests hold
to 1 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from ml.classifier.explanations.gradients import logit_gradients


@dataclass(frozen=True)
class Attributions:
    """Per-pixel, per-channel attributions (H, W, C) and the logits at both ends of the path."""

    values: np.ndarray
    input_logit: float
    baseline_logit: float

    @property
    def completeness_gap(self) -> float:
        """|sum of attributions - (logit(input) - logit(baseline))|: zero for the exact integral."""
        return abs(float(self.values.sum(dtype=np.float64)) - (self.input_logit - self.baseline_logit))


def integrated_gradients(
    model: keras.Model, image: np.ndarray, baseline: np.ndarray, class_index: int, steps: int
) -> Attributions:
    """Attributions of ``image`` (H, W, C) against ``baseline`` (same shape) in ``steps`` intervals."""
    if image.shape != baseline.shape:
        raise ValueError(f"The baseline's shape {baseline.shape} differs from the input's {image.shape}.")
    if steps < 1:
        raise ValueError(f"Integrated gradients need at least one step, not {steps}.")
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32).reshape(-1, 1, 1, 1)
    difference = (image - baseline).astype(np.float32)
    logits, gradients = logit_gradients(model, baseline[np.newaxis] + alphas * difference, class_index)
    weights = np.full(steps + 1, 1.0 / steps)
    weights[[0, -1]] /= 2.0
    average_gradient = np.tensordot(weights, gradients.astype(np.float64), axes=1)
    return Attributions(
        values=(difference * average_gradient).astype(np.float32),
        input_logit=float(logits[-1]),
        baseline_logit=float(logits[0]),
    )
