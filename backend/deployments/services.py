"""Writes on the deployments: install weights and profiles, activate a profile, shadow, promote, roll back.

Every change of what analyses (or runs in shadow) takes the state row's lock, is audited with the
deployments it names, and changes nothing when it is refused. No change re-analyses a study: that is
the admin's separate choice (``studies.services.studies_reanalyse``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from audit.models import AuditAction
from audit.services import audit_record
from common.errors import DomainError
from deployments.models import Deployment, DeploymentState, ModelVersion, ThresholdProfileRecord
from deployments.selectors import boot_default
from ml.classifier.card import ModelCard
from ml.classifier.registry import describe_active_model
from ml.classifier.threshold_profile import ThresholdProfile
from ml.errors import WeightsError

SHA256 = re.compile(r"^[0-9a-f]{64}$")
# The longest model name and rule a profile record keeps (ThresholdProfileRecord's columns).
TEXT_MAX_LENGTH = 200


def model_version_install(*, weights_dir: str | None) -> ModelVersion:
    """Record a weights directory the operator installed (None: the seeded untrained model); the same
    directory with the same weights is recorded once."""
    try:
        card = describe_active_model(weights_dir)
    except WeightsError as error:
        raise DomainError(str(error), extra={"weights_dir": weights_dir}) from error
    version, _ = ModelVersion.objects.get_or_create(
        weights_dir=str(Path(weights_dir).expanduser().resolve()) if weights_dir else "",
        weights_sha256=card.weights_sha256 or "",
        defaults={
            "name": card.name,
            "version": card.version,
            "trained": card.trained,
            "card": card.to_dict(),
        },
    )
    return version


def model_version_install_from_server(*, weights_dir: str, request: HttpRequest) -> ModelVersion:
    """An admin installs a weights folder the operator put under ``CXR_WEIGHTS_ROOT`` (audited
    ``model_install``); any other path is refused (400), so the web app can name no other folder."""
    if not settings.CXR_WEIGHTS_ROOT:
        raise DomainError(
            "No weights folder is offered here: the operator sets CXR_WEIGHTS_ROOT to the folder that "
            "holds the weights folders.",
            extra={"weights_dir": weights_dir},
        )
    root = Path(settings.CXR_WEIGHTS_ROOT).resolve()
    folder = Path(weights_dir).resolve()
    if folder.parent != root or not (folder / "card.json").is_file():
        raise DomainError(
            "Only a weights folder directly under CXR_WEIGHTS_ROOT, with its card.json, can be installed.",
            extra={"weights_dir": weights_dir, "root": str(root)},
        )
    version = model_version_install(weights_dir=str(folder))
    audit_record(
        action=AuditAction.MODEL_INSTALL,
        request=request,
        target_type="model_version",
        target_id=version.pk,
        detail={
            "model": f"{version.name} {version.version}",
            "weights_sha256": version.weights_sha256 or None,
            "weights_dir": version.weights_dir,
        },
    )
    return version


def threshold_profile_install(
    *, document: Any, user: Any = None, request: HttpRequest | None = None
) -> ThresholdProfileRecord:
    """Install a profile file (``python -m ml evaluate --profile-out``) for weights this site has.

    Refused (400, nothing stored) when it is not a valid profile, when no installed weights (the
    active model's included) have its SHA-256, or when its name and version are taken by another.
    Audited ``profile_install`` (by ``user``; the command's without one).
    """
    if not isinstance(document, dict):
        raise DomainError("A threshold profile is a JSON object.", extra={"field": "file"})
    try:
        profile = ThresholdProfile.from_dict(document)
    except (WeightsError, TypeError, AttributeError) as error:
        raise DomainError(f"Not a usable threshold profile: {error}", extra={"field": "file"}) from error
    profile_fields_check(profile)
    active = describe_active_model(state_active_version().weights_dir or None)
    cards = [active, *(ModelCard.from_dict(version.card) for version in ModelVersion.objects.all())]
    card = next(
        (card for card in cards if card.trained and card.weights_sha256 == profile.weights_sha256), None
    )
    if card is None:
        raise DomainError(
            f"The threshold profile {profile.identity} was chosen for other weights "
            f"({profile.weights_sha256[:12]}…, {profile.model}) than any installed here; the active "
            f"model is {active.name} {active.version} ({(active.weights_sha256 or 'untrained')[:12]}…).",
            extra={"weights_sha256": profile.weights_sha256, "active_weights_sha256": active.weights_sha256},
        )
    try:
        profile.check_for(card)
    except WeightsError as error:
        raise DomainError(str(error), extra={"field": "file"}) from error
    existing = ThresholdProfileRecord.objects.filter(name=profile.name, version=profile.version).first()
    if existing is not None:
        if existing.document == profile.to_dict():
            return existing
        raise DomainError(
            f"Another threshold profile {profile.identity} is installed: a new choice is a new version.",
            extra={"profile": profile.identity},
        )
    with transaction.atomic():
        record = ThresholdProfileRecord.objects.create(
            name=profile.name,
            version=profile.version,
            weights_sha256=profile.weights_sha256,
            model=profile.model,
            rule=profile.rule,
            document=profile.to_dict(),
            installed_by=user,
        )
        audit_record(
            action=AuditAction.PROFILE_INSTALL,
            request=request,
            actor=user,
            target_type="threshold_profile",
            target_id=record.pk,
            detail={"profile": profile.identity, "model": profile.model, "rule": profile.rule},
        )
    return record


def profile_fields_check(profile: ThresholdProfile) -> None:
    """What ``ThresholdProfile.from_dict`` leaves to its writer: the types of the fields kept here."""
    problems = []
    if not isinstance(profile.weights_sha256, str) or not SHA256.fullmatch(profile.weights_sha256):
        problems.append("weights_sha256 must be 64 lower-case hex digits")
    for name in ("model", "rule"):
        value = getattr(profile, name)
        if not isinstance(value, str) or not 0 < len(value) <= TEXT_MAX_LENGTH:
            problems.append(f"{name} must be a text of 1 to {TEXT_MAX_LENGTH} characters")
    if not isinstance(profile.evidence, dict):
        problems.append("evidence must be an object")
    if problems:
        raise DomainError(f"Not a usable threshold profile: {'; '.join(problems)}.", extra={"field": "file"})


def threshold_profile_activate(
    *, profile: ThresholdProfileRecord | None, request: HttpRequest
) -> DeploymentState:
    """Make the active weights analyse under ``profile`` (None: the card's own thresholds); the
    deployment before is kept for a rollback."""
    with transaction.atomic():
        state = state_locked()
        version = state.active.model_version
        profile_check(profile, version)
        chosen = deployment_for(version=version, profile=profile)
        if chosen == state.active:
            return state
        before = state.active
        state.previous, state.active = before, chosen
        if state.shadow == chosen:
            state.shadow = None
        state.save()
        deployment_audit(
            action=AuditAction.PROFILE_ACTIVATE,
            request=request,
            deployment=chosen,
            detail={
                "profile": profile.identity if profile else None,
                "active": deployment_detail(chosen),
                "previous": deployment_detail(before),
            },
        )
    return state


def shadow_start(
    *, model_version: ModelVersion, profile: ThresholdProfileRecord | None, request: HttpRequest
) -> DeploymentState:
    """Run ``model_version`` under ``profile`` beside the active model on each live study from now on."""
    with transaction.atomic():
        state = state_locked()
        profile_check(profile, model_version)
        candidate = deployment_for(version=model_version, profile=profile)
        if candidate == state.active:
            raise DomainError(
                "This candidate is the active model: a shadow runs something else.",
                extra={"candidate": deployment_detail(candidate)},
            )
        replaced = state.shadow
        state.shadow = candidate
        state.save()
        deployment_audit(
            action=AuditAction.SHADOW_START,
            request=request,
            deployment=candidate,
            detail={
                "candidate": deployment_detail(candidate),
                "replaced": deployment_detail(replaced) if replaced else None,
            },
        )
    return state


def shadow_stop(*, request: HttpRequest) -> DeploymentState:
    with transaction.atomic():
        state = state_locked()
        if state.shadow is None:
            raise DomainError("No model runs in shadow.")
        stopped, state.shadow = state.shadow, None
        state.save()
        deployment_audit(
            action=AuditAction.SHADOW_STOP,
            request=request,
            deployment=stopped,
            detail={"candidate": deployment_detail(stopped)},
        )
    return state


def model_promote(*, request: HttpRequest) -> DeploymentState:
    """The shadow candidate becomes the active model; the active one is kept for a rollback. Studies
    analysed before keep the results (and the card and profile) that made them."""
    with transaction.atomic():
        state = state_locked()
        if state.shadow is None:
            raise DomainError("No model runs in shadow: start one, compare, then promote it.")
        before = state.active
        state.previous, state.active, state.shadow = before, state.shadow, None
        state.save()
        deployment_audit(
            action=AuditAction.MODEL_PROMOTE,
            request=request,
            deployment=state.active,
            detail={"active": deployment_detail(state.active), "previous": deployment_detail(before)},
        )
    return state


def model_rollback(*, request: HttpRequest) -> DeploymentState:
    """Go back to the deployment active before the last promotion or activation (which becomes the
    one a further rollback returns to)."""
    with transaction.atomic():
        state = state_locked()
        if state.previous is None:
            raise DomainError("Nothing to roll back to: no model was active before this one.")
        before = state.active
        state.active, state.previous = state.previous, before
        if state.shadow == state.active:
            state.shadow = None
        state.save()
        deployment_audit(
            action=AuditAction.MODEL_ROLLBACK,
            request=request,
            deployment=state.active,
            detail={"active": deployment_detail(state.active), "rolled_back": deployment_detail(before)},
        )
    return state


def deployment_state_ensure() -> DeploymentState:
    """The state row, made the first time with the boot default (CXR_WEIGHTS) active."""
    with transaction.atomic():
        return state_locked()


def state_locked() -> DeploymentState:
    """The state row, locked for this transaction; made on first use with the boot default active."""
    DeploymentState.objects.get_or_create(pk=1)
    state = DeploymentState.objects.select_for_update().get(pk=1)
    if state.active is None:
        state.active = deployment_for(version=boot_version(), profile=None)
        state.save()
    return state


def state_active_version() -> ModelVersion:
    state = DeploymentState.objects.select_related("active__model_version").filter(pk=1).first()
    if state is None or state.active is None:
        return boot_version()
    return state.active.model_version


def boot_version() -> ModelVersion:
    return model_version_install(weights_dir=boot_default().weights_dir)


def deployment_for(*, version: ModelVersion, profile: ThresholdProfileRecord | None) -> Deployment:
    deployment, _ = Deployment.objects.get_or_create(model_version=version, profile=profile)
    return deployment


def profile_check(profile: ThresholdProfileRecord | None, version: ModelVersion) -> None:
    """Refuse a profile chosen for other weights than ``version``'s (400, nothing changed)."""
    if profile is None:
        return
    try:
        ThresholdProfile.from_dict(profile.document).check_for(ModelCard.from_dict(version.card))
    except WeightsError as error:
        raise DomainError(
            str(error),
            extra={
                "profile": profile.identity,
                "weights_sha256": profile.weights_sha256,
                "model_weights_sha256": version.weights_sha256 or None,
            },
        ) from error


def deployment_audit(
    *, action: AuditAction, request: HttpRequest, deployment: Deployment, detail: dict[str, Any]
) -> None:
    """Record a change of what analyses (or runs in shadow) against the deployment it is about."""
    audit_record(
        action=action, request=request, target_type="deployment", target_id=deployment.pk, detail=detail
    )


def deployment_detail(deployment: Deployment) -> dict[str, Any]:
    """How the audit log names a deployment: its weights and its profile."""
    version = deployment.model_version
    return {
        "deployment": deployment.pk,
        "model": f"{version.name} {version.version}",
        "weights_sha256": version.weights_sha256 or None,
        "profile": deployment.profile.identity if deployment.profile else None,
    }
