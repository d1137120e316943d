"""Results cached by image content: the same pixels and the same model give the same findings.

The key is the image's SHA-256 and the model's identity, so installing other weights never serves a
stale answer; a site threshold profile changes the card's thresholds and so its identity, and the
value names the profile (null: the card's own thresholds). A shadow candidate's results are never
put here: the clinical path reads this cache. The value holds the findings and the stored heatmaps
file, which studies of identical images share (nothing in the service deletes it).
"""

from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage

from ml.classifier.card import ModelCard


@dataclass(frozen=True)
class CachedFinding:
    label: str
    probability: float
    threshold: float
    positive: bool
    calibrated_score: float


@dataclass(frozen=True)
class CachedResult:
    model_card: dict[str, Any]
    findings: tuple[CachedFinding, ...]
    heatmaps_file: str
    threshold_profile: dict[str, Any] | None = None


def cache_key(*, card: ModelCard, image_sha256: str) -> str:
    return f"result:{card.cache_identity}:{image_sha256}"


def cached_result_get(*, card: ModelCard, image_sha256: str) -> CachedResult | None:
    value = cache.get(cache_key(card=card, image_sha256=image_sha256))
    if not value:
        return None
    # A result whose heatmaps are gone from storage is no longer whole: analyse again.
    if not default_storage.exists(value["heatmaps_file"]):
        return None
    return CachedResult(
        model_card=value["model_card"],
        findings=tuple(CachedFinding(**finding) for finding in value["findings"]),
        heatmaps_file=value["heatmaps_file"],
        threshold_profile=value.get("threshold_profile"),
    )


def cached_result_put(*, card: ModelCard, image_sha256: str, result: CachedResult) -> None:
    value = {
        "model_card": result.model_card,
        "findings": [asdict(finding) for finding in result.findings],
        "heatmaps_file": result.heatmaps_file,
        "threshold_profile": result.threshold_profile,
    }
    cache.set(cache_key(card=card, image_sha256=image_sha256), value, settings.CXR_RESULT_CACHE_SECONDS)
