"""The explanation methods' settings: the model card's optional ``explanations`` section.

Every field has a default, so a card without the section (every card written before it existed)
stays valid and explains with the defaults. A section that is there is checked strictly: an
unknown method or field, or a value of the wrong type or range, is refused with a WeightsError
naming it, because a misspelt setting would otherwise be ignored without a word.

    "explanations": {
      "occlusion": {"window": 32, "stride": 16},           # pixels of the network input
      "integrated_gradients": {"baseline": "blurred", "steps": 64},
      "smoothgrad": {"samples": 16, "noise": 0.15},        # noise: std / the input's value range
      "faithfulness": {"steps": 16, "blur_sigma": 0.125}   # blur_sigma: a fraction of the input size
    }
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from ml.errors import WeightsError

# What integrated gradients start from: the input with its content "removed" the way the
# faithfulness curves remove it (blurred), or an all-zero tensor.
IG_BASELINES = ("blurred", "zero")


@dataclass(frozen=True)
class OcclusionSettings:
    window: int = 32
    stride: int = 16


@dataclass(frozen=True)
class IntegratedGradientsSettings:
    baseline: str = "blurred"
    steps: int = 64


@dataclass(frozen=True)
class SmoothGradSettings:
    samples: int = 16
    noise: float = 0.15


@dataclass(frozen=True)
class FaithfulnessSettings:
    steps: int = 16
    blur_sigma: float = 0.125


@dataclass(frozen=True)
class ExplanationSettings:
    occlusion: OcclusionSettings = OcclusionSettings()
    integrated_gradients: IntegratedGradientsSettings = IntegratedGradientsSettings()
    smoothgrad: SmoothGradSettings = SmoothGradSettings()
    faithfulness: FaithfulnessSettings = FaithfulnessSettings()

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, *, input_size: int) -> ExplanationSettings:
        """Settings from a card's ``explanations`` section (None: all defaults); WeightsError if bad."""
        if data is None:
            data = {}
        where = "The model card's explanations"
        if not isinstance(data, dict):
            raise WeightsError(f"{where} must be a JSON object.")
        sections = {field: data.get(field, {}) for field in _SECTION_TYPES}
        unknown = sorted(set(data) - set(_SECTION_TYPES))
        if unknown:
            raise WeightsError(
                f"{where} has unknown section(s) {', '.join(unknown)}; known: {', '.join(_SECTION_TYPES)}."
            )
        checked = {
            name: _section(f"{where}.{name}", section_type, sections[name])
            for name, section_type in _SECTION_TYPES.items()
        }
        settings = cls(**checked)
        settings._check_ranges(where, input_size)
        return settings

    def _check_ranges(self, where: str, input_size: int) -> None:
        occlusion = self.occlusion
        if not 1 <= occlusion.window <= input_size:
            raise WeightsError(f"{where}.occlusion.window must lie in [1, {input_size}] (the input size).")
        if not 1 <= occlusion.stride <= occlusion.window:
            raise WeightsError(f"{where}.occlusion.stride must lie in [1, window].")
        if self.integrated_gradients.baseline not in IG_BASELINES:
            raise WeightsError(
                f"{where}.integrated_gradients.baseline must be one of {', '.join(IG_BASELINES)}."
            )
        if not 2 <= self.integrated_gradients.steps <= 512:
            raise WeightsError(f"{where}.integrated_gradients.steps must lie in [2, 512].")
        if not 1 <= self.smoothgrad.samples <= 256:
            raise WeightsError(f"{where}.smoothgrad.samples must lie in [1, 256].")
        if not 0.0 < self.smoothgrad.noise <= 1.0:
            raise WeightsError(f"{where}.smoothgrad.noise must lie in (0, 1].")
        if not 2 <= self.faithfulness.steps <= 256:
            raise WeightsError(f"{where}.faithfulness.steps must lie in [2, 256].")
        if not 0.0 < self.faithfulness.blur_sigma <= 1.0:
            raise WeightsError(f"{where}.faithfulness.blur_sigma must lie in (0, 1].")


_SECTION_TYPES: dict[str, type] = {
    "occlusion": OcclusionSettings,
    "integrated_gradients": IntegratedGradientsSettings,
    "smoothgrad": SmoothGradSettings,
    "faithfulness": FaithfulnessSettings,
}


def _section(where: str, section_type: type, data: Any) -> Any:
    """One section's dataclass, each given field type-checked against its default's type."""
    if not isinstance(data, dict):
        raise WeightsError(f"{where} must be a JSON object.")
    defaults = asdict(section_type())
    unknown = sorted(set(data) - set(defaults))
    if unknown:
        raise WeightsError(
            f"{where} has unknown field(s) {', '.join(unknown)}; known: {', '.join(defaults)}."
        )
    for field, value in data.items():
        expected = type(defaults[field])
        # JSON has one number type: an integral noise or sigma is still a number.
        accepted = (int, float) if expected is float else expected
        if isinstance(value, bool) or not isinstance(value, accepted):
            raise WeightsError(f"{where}.{field} must be of type {expected.__name__}, not {value!r}.")
        if expected is float and not math.isfinite(value):
            raise WeightsError(f"{where}.{field} must be a finite number.")
    given = {
        field: float(value) if isinstance(defaults[field], float) else value for field, value in data.items()
    }
    return section_type(**{**defaults, **given})
