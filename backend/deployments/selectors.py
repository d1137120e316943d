"""Reads of the deployments: what analyses now (one query, each task and upload), and the admin's lists."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

from deployments.models import Deployment, DeploymentState, ModelVersion, ThresholdProfileRecord
from ml.classifier.analyser import ClassifierResult
from ml.classifier.architecture import seeded_untrained_weights, weights_digest
from ml.classifier.card import ModelCard
from ml.classifier.postprocess import findings_from_probabilities
from ml.classifier.registry import UNTRAINED_SEED, describe_active_model, untrained_card
from ml.classifier.threshold_profile import ThresholdProfile
from ml.errors import WeightsError


@dataclass(frozen=True)
class DeployedModel:
    """A deployment as the worker runs it: its weights directory (None: untrained), its profile, and
    the deployment's id (None: the boot default, ``settings.CXR_WEIGHTS`` with the card's thresholds,
    or installed weights found by their hash, ``weights_installed``)."""

    deployment_id: int | None
    weights_dir: str | None
    profile: ThresholdProfile | None

    def card(self) -> ModelCard:
        """The card results are made under: the weights' card with the profile's thresholds. Since
        thresholds are part of a card's identity (``cache_identity``), each profile caches apart."""
        card = describe_active_model(self.weights_dir)
        return self.profile.apply(card) if self.profile is not None else card

    def result_of(self, raw: ClassifierResult) -> ClassifierResult:
        """A result of these weights under this deployment's thresholds (the network's result as it
        is without a profile): the probabilities and heatmaps stay, the verdicts follow the profile."""
        if self.profile is None:
            return raw
        card = self.profile.apply(raw.card)
        probabilities = raw.probabilities
        findings = findings_from_probabilities([probabilities[label] for label in card.labels], card)
        return ClassifierResult(card=card, findings=findings, heatmaps=raw.heatmaps)

    def same_weights_as(self, other: DeployedModel) -> bool:
        return weights_path(self.weights_dir) == weights_path(other.weights_dir)

    @property
    def profile_summary(self) -> dict[str, object] | None:
        """What a stored result records of its profile: null for the card's own thresholds."""
        if self.profile is None:
            return None
        return profile_summary(self.profile)


def profile_summary(profile: ThresholdProfile) -> dict[str, object]:
    return {
        "identity": profile.identity,
        "name": profile.name,
        "version": profile.version,
        "rule": profile.rule,
        "weights_sha256": profile.weights_sha256,
    }


def profile_label(summary: dict[str, object] | None) -> str:
    """How reports and exports name the thresholds a stored result was judged under."""
    if summary is None:
        return "the model card's own thresholds"
    return f"site threshold profile {summary['identity']} ({summary['rule']})"


def weights_path(weights_dir: str | None) -> str:
    return str(Path(weights_dir).expanduser().resolve()) if weights_dir else ""


def boot_default() -> DeployedModel:
    return DeployedModel(deployment_id=None, weights_dir=settings.CXR_WEIGHTS, profile=None)


def deployed(deployment: Deployment) -> DeployedModel:
    profile = deployment.profile
    return DeployedModel(
        deployment_id=deployment.pk,
        weights_dir=deployment.model_version.weights_dir or None,
        profile=ThresholdProfile.from_dict(profile.document) if profile is not None else None,
    )


@cache
def seeded_weights_sha256(input_channels: int, num_classes: int) -> str:
    """The seeded untrained weights' digest, as the worker's engine computes it once it draws them
    (about a second of NumPy, once per process): an untrained card read from settings has none."""
    weights = seeded_untrained_weights(input_channels, num_classes, UNTRAINED_SEED)
    return weights_digest(weights, input_channels, num_classes)


def weights_installed(card: dict[str, Any]) -> DeployedModel | None:
    """The weights a stored result's card names, without a profile: what explains a study by the
    network that analysed it when that is not this process's own. The seeded untrained network is
    always there (its seed is fixed); other weights are the boot default's or an installed version's,
    found by their SHA-256. None when those weights are no longer installed here."""
    weights_sha256 = card.get("weights_sha256")
    seeded = untrained_card()
    if (card.get("name"), card.get("version")) == (seeded.name, seeded.version) and weights_sha256 == (
        seeded_weights_sha256(seeded.input_channels, len(seeded.labels))
    ):
        return DeployedModel(deployment_id=None, weights_dir=None, profile=None)
    default = boot_default()
    if describe_active_model(default.weights_dir).weights_sha256 == weights_sha256:
        return default
    version = ModelVersion.objects.filter(weights_sha256=weights_sha256 or "").exclude(weights_dir="").first()
    if version is None:
        return None
    return DeployedModel(deployment_id=None, weights_dir=version.weights_dir, profile=None)


def deployment_state() -> DeploymentState | None:
    return (
        DeploymentState.objects.select_related(
            *(
                f"{role}__{part}"
                for role in ("active", "shadow", "previous")
                for part in ("model_version", "profile")
            )
        )
        .filter(pk=1)
        .first()
    )


def deployment_active() -> DeployedModel:
    """What analyses now: read once per task and per upload, so a change reaches every process at once."""
    state = deployment_state()
    if state is None or state.active is None:
        return boot_default()
    return deployed(state.active)


def deployment_shadow() -> DeployedModel | None:
    """The candidate that runs beside the active model on each live study, if one does."""
    state = deployment_state()
    if state is None or state.shadow is None:
        return None
    return deployed(state.shadow)


# At most this many folders of CXR_WEIGHTS_ROOT are read for the Model versions page.
WEIGHTS_FOLDERS_MAX = 50


@dataclass(frozen=True)
class ServerWeights:
    """A weights folder under ``CXR_WEIGHTS_ROOT``: its card when it reads as one, or why not."""

    weights_dir: str
    card: ModelCard | None
    error: str
    installed: bool


def weights_on_server() -> list[ServerWeights]:
    """The weights folders the operator put under ``CXR_WEIGHTS_ROOT`` (each a ``card.json`` beside
    its weights), read as the service would load them, and whether each is installed already."""
    if not settings.CXR_WEIGHTS_ROOT:
        return []
    root = Path(settings.CXR_WEIGHTS_ROOT)
    folders = (
        sorted(child for child in root.iterdir() if (child / "card.json").is_file()) if root.is_dir() else []
    )
    installed = set(ModelVersion.objects.values_list("weights_dir", "weights_sha256"))
    found = []
    for folder in folders[:WEIGHTS_FOLDERS_MAX]:
        weights_dir = weights_path(str(folder))
        try:
            card = describe_active_model(weights_dir)
        except WeightsError as error:
            found.append(ServerWeights(weights_dir=weights_dir, card=None, error=str(error), installed=False))
            continue
        known = (weights_dir, card.weights_sha256 or "") in installed
        found.append(ServerWeights(weights_dir=weights_dir, card=card, error="", installed=known))
    return found


def model_versions_list() -> list[ModelVersion]:
    return list(ModelVersion.objects.all())


def threshold_profiles_list() -> list[ThresholdProfileRecord]:
    return list(ThresholdProfileRecord.objects.select_related("installed_by"))
