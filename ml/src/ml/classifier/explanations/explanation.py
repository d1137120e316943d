"""One finding of one radiograph explained by one method, with the map's faithfulness scores.

    explanation = explain(engine, prepared, "Effusion", "integrated_gradients")
    explanation.deletion_auc, explanation.insertion_auc   # lower / higher is better
    explanation.at_radiograph_size()                      # the map in [0, 1], placed on request
    Explanation.from_bytes(explanation.to_bytes())        # kept as one small npz

Grad-CAM comes from the engine's one pass (``ml.classifier.explanations.gradcam``) and stays 7x7; the other
methods' maps are at the network's input resolution. Gradient methods run the Keras model on
TensorFlow (``InferenceEngine.model``, built from the same arrays on first use) and differentiate
the finding's logit; occlusion and the faithfulness curves run forward passes on the engine's
own runtime and read the finding's probability. Every map's faithfulness is measured the same
way, at the input resolution (see ``ml.classifier.explanations.faithfulness``).
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ml.classifier.explanations.faithfulness import LabelProbability, faithfulness, removed_input
from ml.classifier.explanations.gradcam import maps_to_radiograph_frame, normalise_maps
from ml.classifier.explanations.occlusion import occlusion
from ml.classifier.explanations.settings import ExplanationSettings
from ml.images.preprocessing import CropBox, frame_from_array, frame_to_array
from ml.prepared import CLASSIFIER

if TYPE_CHECKING:
    from ml.classifier.engine import InferenceEngine
    from ml.prepared import PreparedImage

GRADCAM = "gradcam"
METHODS = (GRADCAM, "saliency", "smoothgrad", "occlusion", "integrated_gradients")
# What each method's map is computed from, as the service and the README say it.
GRADIENT_TARGET = "logit"
CURVE_TARGET = "probability"


@dataclass(frozen=True)
class Explanation:
    """A map in [0, 1] (evidence for the finding; 0 where there is none) and how faithful it is.

    ``parameters`` are the settings the method and the curves ran with; ``seconds`` the time
    the method and its faithfulness took together.
    """

    method: str
    label: str
    map: np.ndarray
    deletion_auc: float
    insertion_auc: float
    parameters: dict[str, Any]
    seconds: float
    crop: CropBox
    width: int
    height: int

    def at_radiograph_size(self) -> np.ndarray:
        """The map upsampled onto the crop, in a frame of the radiograph's size (zero outside it)."""
        return maps_to_radiograph_frame(self.map, self.crop, self.width, self.height)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        details = {
            "method": self.method,
            "label": self.label,
            "deletion_auc": self.deletion_auc,
            "insertion_auc": self.insertion_auc,
            "parameters": self.parameters,
            "seconds": self.seconds,
        }
        np.savez_compressed(
            buffer,
            # Half precision: a displayed map needs no more than 8 bits, and the file halves.
            map=self.map.astype(np.float16),
            frame=frame_to_array(self.crop, self.width, self.height),
            details=np.array(json.dumps(details)),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Explanation:
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            crop, width, height = frame_from_array(stored["frame"])
            details = json.loads(str(stored["details"]))
            return cls(
                map=stored["map"].astype(np.float32),
                crop=crop,
                width=width,
                height=height,
                **details,
            )


def explain(
    engine: InferenceEngine,
    prepared: PreparedImage,
    label: str,
    method: str,
    settings: ExplanationSettings | None = None,
) -> Explanation:
    """Explain ``label`` on ``prepared`` by ``method`` (one of METHODS); ValueError for an unknown one.

    ``settings`` default to the engine's card's ``explanations`` section.
    """
    card = engine.card
    if method not in METHODS:
        raise ValueError(f"Unknown explanation method {method!r}; known: {', '.join(METHODS)}.")
    if label not in card.labels:
        raise ValueError(f"The model has no finding {label!r}; its findings: {', '.join(card.labels)}.")
    settings = settings if settings is not None else card.explanation_settings
    class_index = card.labels.index(label)
    image = np.asarray(prepared.inputs[CLASSIFIER], dtype=np.float32)
    removed = removed_input(image, settings.faithfulness.blur_sigma)

    def probability(images: np.ndarray) -> np.ndarray:
        return engine.probabilities(images)[:, class_index]

    started = time.perf_counter()
    relevance, small_map, parameters = _relevance(
        engine, image, removed, class_index, method, settings, probability
    )
    scores = faithfulness(probability, image, relevance, removed, settings.faithfulness.steps)
    seconds = time.perf_counter() - started
    return Explanation(
        method=method,
        label=label,
        map=small_map,
        deletion_auc=scores.deletion_auc,
        insertion_auc=scores.insertion_auc,
        parameters={
            **parameters,
            "faithfulness": {
                **settings.to_dict()["faithfulness"],
                "removed": "gaussian blur",
                "curve_target": CURVE_TARGET,
            },
        },
        seconds=round(seconds, 3),
        crop=prepared.crop,
        width=prepared.width,
        height=prepared.height,
    )


def _relevance(
    engine: InferenceEngine,
    image: np.ndarray,
    removed: np.ndarray,
    class_index: int,
    method: str,
    settings: ExplanationSettings,
    probability: LabelProbability,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(relevance at the input resolution to order pixels by, the map to keep, the parameters)."""
    size = image.shape[0]
    if method == GRADCAM:
        _, maps = engine.explain(image[np.newaxis])
        small = maps[0, class_index]
        # The same bilinear placement as on the radiograph, here onto the whole input square.
        return maps_to_radiograph_frame(small, CropBox(0, 0, size), size, size), small, {}
    if method == "occlusion":
        relevance = occlusion(probability, image, removed, settings.occlusion)
        return relevance, _display(relevance), {**settings.to_dict()["occlusion"], "target": CURVE_TARGET}
    # The gradient methods import TensorFlow: only when one of them is asked for.
    if method == "saliency":
        from ml.classifier.explanations.saliency import saliency

        relevance = saliency(engine.model, image, class_index)
        return relevance, _display(relevance), {"target": GRADIENT_TARGET}
    if method == "smoothgrad":
        from ml.classifier.explanations.smoothgrad import smoothgrad

        relevance = smoothgrad(engine.model, image, class_index, settings.smoothgrad)
        return relevance, _display(relevance), {**settings.to_dict()["smoothgrad"], "target": GRADIENT_TARGET}
    from ml.classifier.explanations.integrated_gradients import integrated_gradients

    ig = settings.integrated_gradients
    baseline = removed if ig.baseline == "blurred" else np.zeros_like(image)
    attributions = integrated_gradients(engine.model, image, baseline, class_index, ig.steps)
    relevance = attributions.values.sum(axis=-1)
    parameters = {
        "baseline": ig.baseline,
        "steps": ig.steps,
        "target": GRADIENT_TARGET,
        "completeness_gap": round(attributions.completeness_gap, 6),
        "logit_difference": round(attributions.input_logit - attributions.baseline_logit, 6),
    }
    return relevance, _display(relevance), parameters


def _display(relevance: np.ndarray) -> np.ndarray:
    """The evidence for the finding (the positive part) scaled so its maximum is 1."""
    return normalise_maps(np.maximum(relevance, 0.0).astype(np.float32))
