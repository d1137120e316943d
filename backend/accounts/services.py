"""Writes on users."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import Role, User
from common.errors import DomainError


def user_create(*, username: str, password: str, role: Role, email: str = "") -> User:
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError("A user with that username already exists.", extra={"field": "username"})
    user = User(username=username, email=email, is_staff=role == Role.ADMIN)
    check_password_strength(password=password, user=user)
    user.set_password(password)
    user.save()
    return user


class UsernameTakenError(DomainError):
    status_code = 409


def user_create_external(
    *, username: str, role: Role, email: str = "", first_name: str = "", last_name: str = ""
) -> User:
    """A user of the hospital's sign-in (OpenID provider or directory), made at their first sign-in."""
    if User.objects.filter(username__iexact=username).exists():
        # Never take over a local account by its name: the hospital's user may be someone else.
        raise UsernameTakenError(
            f'A local account is already named "{username}": an admin must rename or remove it first.',
            extra={"username": username},
        )
    user = User(
        username=username,
        email=email[:254],
        first_name=first_name[:150],
        last_name=last_name[:150],
        is_staff=role == Role.ADMIN,
    )
    # Signs in through the hospital only: no password of the service's own to steal or forget.
    user.set_unusable_password()
    user.save()
    return user


def user_external_sign_in(*, user: User, role: Role) -> User:
    """A known user of the hospital's sign-in signs in again: the role is the hospital's of today."""
    if not user.is_active:
        raise DomainError("Your account in this service is deactivated: ask an admin.", status_code=403)
    if user.role != role:
        user.is_staff = role == Role.ADMIN
        user.save(update_fields=["is_staff"])
    return user


@transaction.atomic
def user_update(
    *, user: User, acting_user: User, role: Role | None = None, is_active: bool | None = None
) -> User:
    if user.pk == acting_user.pk and (is_active is False or role == Role.CLINICIAN):
        # An admin locking themselves out could leave the service without any admin.
        raise DomainError("You cannot deactivate or demote your own account.", status_code=403)
    if role is not None:
        user.is_staff = role == Role.ADMIN
    if is_active is not None:
        user.is_active = is_active
    user.save(update_fields=["is_staff", "is_active"])
    if is_active is False:
        # Access tokens already stop at the next request (Simple JWT checks is_active); close the
        # refresh tokens too, so a reactivation does not revive old sessions.
        user_revoke_refresh_tokens(user=user)
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str) -> User:
    """An admin sets a new password: every session of the user ends at once.

    Access tokens carry a hash of the password hash (Simple JWT's CHECK_REVOKE_TOKEN), so they stop
    working with the change; the outstanding refresh tokens are blacklisted.
    """
    check_password_strength(password=password, user=user)
    user.set_password(password)
    user.save(update_fields=["password"])
    user_revoke_refresh_tokens(user=user)
    return user


def user_revoke_refresh_tokens(*, user: User) -> int:
    """Blacklist every unexpired refresh token issued to the user; returns how many were open."""
    outstanding = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now()).exclude(
        blacklistedtoken__isnull=False
    )
    revoked = 0
    for token in outstanding:
        _, created = BlacklistedToken.objects.get_or_create(token=token)
        revoked += int(created)
    return revoked


def check_password_strength(*, password: str, user: User) -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as error:
        raise DomainError(
            error.messages[0], extra={"field": "password", "problems": error.messages}
        ) from error
