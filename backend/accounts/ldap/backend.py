"""The Django authentication backend that signs directory users in (after ModelBackend, see
AUTHENTICATION_BACKENDS): the token endpoint, and Django's admin site, take their passwords."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts.ldap.directory import directory_authenticate, ldap_enabled
from accounts.ldap.users import ldap_user_sign_in
from accounts.models import User


class DirectoryBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not ldap_enabled() or not username or not password:
            return None
        local = User.objects.filter(username__iexact=username).first()
        if local is not None and local.has_usable_password():
            # A local account (the break-glass admin) signs in with its own password only, which
            # ModelBackend has checked already: a directory entry of that name is someone else.
            return None
        entry = directory_authenticate(username=username, password=password)
        return ldap_user_sign_in(entry=entry) if entry else None
