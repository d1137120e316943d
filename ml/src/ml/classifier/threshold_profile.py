"""A site's threshold profile: the operating thresholds a hospital chose on its own cases, for one set
of weights.

The card's thresholds were chosen on the data the model was validated on; a site that ran its
acceptance (``python -m ml evaluate --targets``) may choose its own by a rule (a target
sensitivity, F1, Youden) from the same run: ``evaluate --profile-out DIR --profile-name NAME``
writes ``DIR/NAME-vN.json``, each run the next version, older ones kept. A profile is bound to the
weights' SHA-256: applied to other weights it is refused (``check_for``), never silently used.
``apply`` gives the card with the profile's thresholds; since thresholds are part of a card's
identity, results under a profile never share a cache entry with the card's own.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml.classifier.card import ModelCard
from ml.errors import DataError, WeightsError

PROFILE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
FORMAT = "cxr-threshold-profile"


@dataclass(frozen=True)
class ThresholdProfile:
    name: str
    version: int
    # The card it was chosen for: its name and version, and its weights' SHA-256.
    model: str
    weights_sha256: str
    # The rule that chose the thresholds (``ml.evaluation.metrics.ThresholdRule.describe``).
    rule: str
    thresholds: dict[str, float]
    # Where the thresholds come from: the evaluation's cases and the findings it could not set.
    evidence: dict[str, Any]

    @property
    def identity(self) -> str:
        return f"{self.name}-v{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ThresholdProfile:
        if data.get("format") != FORMAT:
            raise WeightsError(
                f"Not a threshold profile (its format is {data.get('format')!r}, not {FORMAT!r})."
            )
        fields = {field.name for field in dataclasses.fields(cls)}
        missing = sorted(fields - set(data))
        if missing:
            raise WeightsError(f"The threshold profile lacks {', '.join(missing)}.")
        profile = cls(**{name: data[name] for name in fields})
        profile_name_check(profile.name)
        if not isinstance(profile.version, int) or profile.version < 1:
            raise WeightsError(
                f"The threshold profile's version must be a positive integer, not {profile.version!r}."
            )
        for label, threshold in profile.thresholds.items():
            if (
                not isinstance(threshold, int | float)
                or not math.isfinite(threshold)
                or not 0 <= threshold <= 1
            ):
                raise WeightsError(
                    f"The threshold profile's {label} threshold must lie in [0, 1], not {threshold!r}."
                )
        return profile

    @classmethod
    def load(cls, path: str | Path) -> ThresholdProfile:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise WeightsError(f"The threshold profile {path} cannot be read: {error}") from error
        if not isinstance(data, dict):
            raise WeightsError(f"The threshold profile {path} is not a JSON object.")
        return cls.from_dict(data)

    def check_for(self, card: ModelCard) -> None:
        """Refuse this profile for a card of other weights (or an untrained card, which has none)."""
        if not card.trained or card.weights_sha256 != self.weights_sha256:
            raise WeightsError(
                f"The threshold profile {self.identity} was chosen for the weights "
                f"{self.weights_sha256[:12]}… ({self.model}), not for the installed "
                f"{card.name} {card.version} ({(card.weights_sha256 or 'untrained')[:12]}…): "
                "choose thresholds for these weights."
            )
        unknown = sorted(set(self.thresholds) - set(card.labels))
        if unknown:
            raise WeightsError(
                f"The threshold profile {self.identity} names unknown finding(s): {', '.join(unknown)}."
            )

    def apply(self, card: ModelCard) -> ModelCard:
        """The card with this profile's thresholds (the card's own where the profile sets none)."""
        self.check_for(card)
        return dataclasses.replace(card, thresholds={**card.thresholds, **self.thresholds})


def profile_name_check(name: str) -> str:
    if not isinstance(name, str) or not PROFILE_NAME.match(name):
        raise WeightsError(
            f"A threshold profile's name is 1 to 63 lower-case letters, digits and hyphens, not {name!r}."
        )
    return name


def profile_make(
    *,
    name: str,
    version: int,
    card: ModelCard,
    rule: str,
    thresholds: dict[str, float],
    evidence: dict[str, Any],
) -> ThresholdProfile:
    """Version ``version`` of profile ``name`` for ``card``'s weights (the service numbers its own)."""
    if not card.trained or card.weights_sha256 is None:
        raise DataError(
            "A threshold profile is for trained weights: the untrained model has no site thresholds."
        )
    return ThresholdProfile(
        name=profile_name_check(name),
        version=version,
        model=f"{card.name} {card.version}",
        weights_sha256=card.weights_sha256,
        rule=rule,
        thresholds=thresholds,
        evidence=evidence,
    )


def profile_write(
    folder: Path,
    *,
    name: str,
    card: ModelCard,
    rule: str,
    thresholds: dict[str, float],
    evidence: dict[str, Any],
) -> Path:
    """Write the next version of profile ``name`` for ``card``'s weights into ``folder``; return its path."""
    profile_name_check(name)
    folder.mkdir(parents=True, exist_ok=True)
    versions = [
        int(match.group(1))
        for path in folder.glob(f"{name}-v*.json")
        if (match := re.fullmatch(rf"{re.escape(name)}-v(\d+)\.json", path.name))
    ]
    profile = profile_make(
        name=name,
        version=max(versions, default=0) + 1,
        card=card,
        rule=rule,
        thresholds=thresholds,
        evidence=evidence,
    )
    path = folder / f"{profile.identity}.json"
    path.write_text(json.dumps(profile.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
