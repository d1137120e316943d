"""A radiograph as the intake prepared it for the analysers: every input, made once in the web process.

The worker reads this back and runs each analyser on its own input, so no image is decoded twice.
Each input carries the key of the card it was prepared for (``ml.analyser.input_key``): an input
made for another card (weights installed since) is prepared again, never fed to the wrong network.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ml.images.preprocessing import CropBox, centre_square_crop

# The prefix of an analyser's input in a prepared image's npz file.
INPUT_PREFIX = "input_of_"
# Files written before every model went through the one contract kept the classifier's input as
# "tensor" beside its preprocessing key; they still read as the classifier's input.
_OLD_CLASSIFIER_INPUT = "tensor"
_OLD_CLASSIFIER_KEY = "preprocessing"
_OLD_ANALYSER_KEYS = "analyser_keys"
CLASSIFIER = "classifier"


@dataclass(frozen=True)
class PreparedImage:
    """Each analyser's input for one radiograph (by kind), with what places its results on the image.

    ``inputs[kind]`` is that analyser's float32 tensor and ``input_keys[kind]`` the key of the card it
    was made for (a kind whose weights were unusable at intake has none: its run fails with the
    reason, and the upload is not refused); ``width`` and ``height`` are the radiograph's;
    ``view_position`` (PA, AP, or None when the file does not say) qualifies a measurement.
    """

    inputs: Mapping[str, np.ndarray]
    input_keys: Mapping[str, str]
    width: int
    height: int
    view_position: str | None = None

    @property
    def crop(self) -> CropBox:
        """The centre square that square-cropping analysers (the classifier) read, placing their maps."""
        return centre_square_crop(self.width, self.height)

    def input_for(self, kind: str, key: str) -> np.ndarray:
        """``kind``'s input, checked to have been made for the card whose input key is ``key``."""
        if self.input_keys.get(kind) != key or kind not in self.inputs:
            raise ValueError(f"An input was not prepared for the {kind} analyser's card; prepare it again.")
        return self.inputs[kind]

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(
            buffer,
            size=np.array([self.width, self.height]),
            view_position=np.array(self.view_position or ""),
            input_keys=np.array(json.dumps(dict(self.input_keys))),
            **{f"{INPUT_PREFIX}{kind}": tensor.astype(np.float32) for kind, tensor in self.inputs.items()},
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> PreparedImage:
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            names = set(stored.files)
            inputs = {
                name.removeprefix(INPUT_PREFIX): stored[name].astype(np.float32)
                for name in names
                if name.startswith(INPUT_PREFIX)
            }
            if "input_keys" in names:
                keys = json.loads(str(stored["input_keys"]))
                width, height = (int(value) for value in stored["size"])
            else:
                keys = json.loads(str(stored[_OLD_ANALYSER_KEYS])) if _OLD_ANALYSER_KEYS in names else {}
                inputs[CLASSIFIER] = stored[_OLD_CLASSIFIER_INPUT].astype(np.float32)
                keys[CLASSIFIER] = str(stored[_OLD_CLASSIFIER_KEY])
                # The old frame was (left, top, size, width, height).
                width, height = (int(value) for value in stored["frame"][3:5])
            view = str(stored["view_position"]) if "view_position" in names else ""
            return cls(inputs=inputs, input_keys=keys, width=width, height=height, view_position=view or None)
