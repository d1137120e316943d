"""The service's user for a directory account: found by the entry's lasting identity, made on its
first sign-in, its role set from the directory's groups at every sign-in (IT's groups are the truth)."""

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.ldap.directory import DirectoryEntry
from accounts.models import ExternalIdentity, Role, User
from accounts.services import UsernameTakenError, user_create_external, user_external_sign_in
from common.errors import DomainError

# The issuer of every directory identity (ExternalIdentity): one directory per deployment.
LDAP_ISSUER = "ldap"


class NoDirectoryRoleError(DomainError):
    status_code = 403


def role_from_groups(groups: frozenset[str]) -> Role:
    # DNs compare without regard to case, as the directory compares them.
    member_of = {group.lower() for group in groups}
    if member_of & {group.lower() for group in settings.CXR_LDAP_ADMIN_GROUPS}:
        return Role.ADMIN
    if member_of & {group.lower() for group in settings.CXR_LDAP_CLINICIAN_GROUPS}:
        return Role.CLINICIAN
    raise NoDirectoryRoleError(
        "Your directory account is in none of the groups that give a role in this service: ask your "
        "IT department to add you to one.",
        extra={"groups": [*settings.CXR_LDAP_CLINICIAN_GROUPS, *settings.CXR_LDAP_ADMIN_GROUPS]},
    )


def ldap_user_sign_in(*, entry: DirectoryEntry) -> User:
    role = role_from_groups(entry.groups)
    try:
        with transaction.atomic():
            return user_for_entry(entry=entry, role=role)
    except (IntegrityError, UsernameTakenError):
        # Another sign-in of the same person (a double click, two tabs) made their user meanwhile,
        # and committed it between our statements: found now. Someone else's account of that name
        # is refused again (409).
        with transaction.atomic():
            return user_for_entry(entry=entry, role=role)


def user_for_entry(*, entry: DirectoryEntry, role: Role) -> User:
    identity = (
        ExternalIdentity.objects.select_related("user")
        .select_for_update()
        .filter(issuer=LDAP_ISSUER, subject=entry.identity)
        .first()
    )
    if identity is None:
        user = user_create_external(
            username=entry.username,
            role=role,
            email=entry.email,
            first_name=entry.first_name,
            last_name=entry.last_name,
        )
        ExternalIdentity.objects.create(user=user, issuer=LDAP_ISSUER, subject=entry.identity)
        return user
    return user_external_sign_in(user=identity.user, role=role)
