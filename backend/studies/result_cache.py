"""Results cached by image content: the same pixels and the same model give the same findings.

The key is the image's SHA-256 and the model's identity, so installing other weights never serves a
stale answer. The value holds the findings and the stored heatmap files, which studies of identical
images share (nothing in the service deletes them).
"""

from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage

from ml.weights.card import ModelCard


@dataclass(frozen=True)
class CachedFinding:
    label: str
    probability: float
    threshold: float
    positive: bool
    heatmap_file: str


@dataclass(frozen=True)
class CachedResult:
    model_card: dict[str, Any]
    findings: tuple[CachedFinding, ...]


def cache_key(*, card: ModelCard, image_sha256: str) -> str:
    return f"result:{card.cache_identity}:{image_sha256}"


def cached_result_get(*, card: ModelCard, image_sha256: str) -> CachedResult | None:
    value = cache.get(cache_key(card=card, image_sha256=image_sha256))
    if not value:
        return None
    result = CachedResult(
        model_card=value["model_card"],
        findings=tuple(CachedFinding(**finding) for finding in value["findings"]),
    )
    # A result whose heatmaps are gone from storage is no longer whole: analyse again.
    if not all(default_storage.exists(finding.heatmap_file) for finding in result.findings):
        return None
    return result


def cached_result_put(*, card: ModelCard, image_sha256: str, result: CachedResult) -> None:
    value = {"model_card": result.model_card, "findings": [asdict(finding) for finding in result.findings]}
    cache.set(cache_key(card=card, image_sha256=image_sha256), value, settings.CXR_RESULT_CACHE_SECONDS)
