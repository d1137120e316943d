"""The role a hospital account has in the service, read from the claim the settings name."""

from typing import Any

from django.conf import settings

from accounts.models import Role
from common.errors import DomainError


class NoRoleError(DomainError):
    status_code = 403


def claim_value(claims: dict[str, Any], path: str) -> object:
    """A claim by name, or by a dotted path into nested claims (Keycloak's realm_access.roles)."""
    value: object = claims
    for name in path.split("."):
        if not isinstance(value, dict) or name not in value:
            return None
        value = value[name]
    return value


def role_from_claims(claims: dict[str, Any]) -> Role:
    claim = settings.CXR_OIDC_ROLE_CLAIM
    value = claim_value(claims, claim)
    if value is None:
        raise NoRoleError(
            f'Your hospital account carries no "{claim}" claim, from which this service reads your role: '
            "ask your IT department to release it to this service.",
            extra={"claim": claim},
        )
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(item, str) for item in values):
        raise NoRoleError(
            f'The "{claim}" claim is neither a string nor a list of strings.', extra={"claim": claim}
        )
    if set(values) & set(settings.CXR_OIDC_ADMIN_VALUES):
        return Role.ADMIN
    if set(values) & set(settings.CXR_OIDC_CLINICIAN_VALUES):
        return Role.CLINICIAN
    accepted = [*settings.CXR_OIDC_CLINICIAN_VALUES, *settings.CXR_OIDC_ADMIN_VALUES]
    raise NoRoleError(
        f'Your hospital account has no role in this service: its "{claim}" claim has none of '
        f"{', '.join(accepted)}. Ask your IT department to give you one.",
        extra={"claim": claim, "accepted": accepted},
    )
