"""The service's user for a hospital account: found by its issuer and subject, made on its first
sign-in, its role set from the provider's claim at every sign-in (IT's groups are the truth)."""

from typing import Any

from django.conf import settings
from django.db import transaction

from accounts.models import ExternalIdentity, Role, User
from accounts.oidc.roles import role_from_claims
from accounts.services import user_create_external, user_external_sign_in
from common.errors import DomainError

USERNAME_MAX_LENGTH = 150


@transaction.atomic
def oidc_user_sign_in(*, issuer: str, claims: dict[str, Any]) -> User:
    role = role_from_claims(claims)
    identity = (
        ExternalIdentity.objects.select_related("user")
        .select_for_update()
        .filter(issuer=issuer, subject=claims["sub"])
        .first()
    )
    if identity is None:
        user = user_for_new_identity(claims=claims, role=role)
        ExternalIdentity.objects.create(user=user, issuer=issuer, subject=claims["sub"])
        return user
    return user_external_sign_in(user=identity.user, role=role)


def user_for_new_identity(*, claims: dict[str, Any], role: Role) -> User:
    claim = settings.CXR_OIDC_USERNAME_CLAIM
    username = claims.get(claim)
    if not isinstance(username, str) or not 0 < len(username) <= USERNAME_MAX_LENGTH:
        raise DomainError(
            f'Your hospital account carries no usable "{claim}" claim to name you by in this service.',
            status_code=403,
            extra={"claim": claim},
        )
    return user_create_external(
        username=username,
        role=role,
        email=str(claims.get("email", "")),
        first_name=str(claims.get("given_name", "")),
        last_name=str(claims.get("family_name", "")),
    )
