"""What the analysers need of a network, whichever runtime computes it."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Network(Protocol):
    """A built network: ``name`` says what computes it (``openvino-f32``, ``keras-tensorflow``)."""

    name: str

    def run(self, images: np.ndarray) -> np.ndarray:
        """The network's float32 output for a batch of inputs."""
        ...
