"""The hospital's LDAP directory: a user's entry found (by a DN template, or searched for with the
service account), their password checked by binding as them, their groups read."""

import contextlib
import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from ldap3 import BASE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from common.errors import DomainError

logger = logging.getLogger(__name__)

# LDAP result codes (RFC 4511 §4.1.9) that say the directory itself cannot answer now, where the
# others refuse this user or password.
SUCCESS, SIZE_LIMIT_EXCEEDED, NO_SUCH_OBJECT = 0, 4, 32
UNAVAILABLE_RESULTS = {3, 11, 51, 52, 80}  # timeLimitExceeded, adminLimitExceeded, busy, unavailable, other


class DirectoryUnavailableError(DomainError):
    status_code = 503


@dataclass(frozen=True)
class DirectoryEntry:
    dn: str
    # The entry's value of CXR_LDAP_ID_ATTRIBUTE: names the person for good, where a DN or user
    # name can change or be given to someone else.
    identity: str
    username: str
    email: str
    first_name: str
    last_name: str
    # The configured groups (admins' and clinicians') the entry is a member of.
    groups: frozenset[str]


def ldap_enabled() -> bool:
    return bool(settings.CXR_LDAP_URL)


def unavailable(reason: str, **extra: object) -> DirectoryUnavailableError:
    return DirectoryUnavailableError(
        "The hospital's directory cannot be reached, so directory accounts cannot sign in now; try "
        "again later, or sign in with a local account.",
        extra={"reason": reason, **extra},
    )


def directory_authenticate(*, username: str, password: str) -> DirectoryEntry | None:
    """The user's entry when the directory accepts this password; None when it knows no such user or
    refuses the password. Raises DirectoryUnavailableError when the directory cannot answer."""
    if not username or not password:
        # A simple bind with a DN and an empty password is an unauthenticated bind (RFC 4513
        # §5.1.2), which some directories answer with success, as anonymous.
        return None
    try:
        if settings.CXR_LDAP_BIND_DN_TEMPLATE:
            dn = settings.CXR_LDAP_BIND_DN_TEMPLATE.format(username=escape_rdn(username))
            with bound(dn, password) as connection:
                return read_entry(connection, dn) if connection else None
        with service_connection() as service:
            dn = find_user_dn(service, username)
            if dn is None:
                return None
            with bound(dn, password) as connection:
                if connection is None:
                    return None
            return read_entry(service, dn)
    except LDAPException as error:
        raise unavailable(type(error).__name__, error=str(error)) from error


def server() -> Server:
    tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=settings.CXR_LDAP_CA_FILE or None)
    return Server(
        settings.CXR_LDAP_URL, connect_timeout=settings.CXR_LDAP_TIMEOUT_SECONDS, tls=tls, get_info=NONE
    )


@contextmanager
def bound(dn: str | None, password: str | None) -> Iterator[Connection | None]:
    """A connection bound as dn (anonymous when None), or None when the directory refuses the bind."""
    connection = Connection(
        server(),
        user=dn,
        password=password,
        receive_timeout=settings.CXR_LDAP_TIMEOUT_SECONDS,
        raise_exceptions=False,
        read_only=True,
        auto_referrals=False,
    )
    try:
        connection.open()
        if settings.CXR_LDAP_START_TLS and not connection.start_tls():
            raise unavailable("StartTLS refused", result=connection.result)
        if connection.bind():
            yield connection
        elif connection.result["result"] in UNAVAILABLE_RESULTS:
            raise unavailable("bind", result=connection.result["description"])
        else:
            yield None
    finally:
        # A connection that failed (its TLS refused, say) may fail to close too: the first error counts.
        with contextlib.suppress(LDAPException):
            connection.unbind()


@contextmanager
def service_connection() -> Iterator[Connection]:
    with bound(
        settings.CXR_LDAP_SERVICE_BIND_DN or None, settings.CXR_LDAP_SERVICE_BIND_PASSWORD or None
    ) as service:
        if service is None:
            # The service's own account: a configuration error, never the signing-in user's.
            raise unavailable("the service account's bind was refused: check CXR_LDAP_SERVICE_BIND_DN")
        yield service


def search(connection: Connection, base: str, query: str, scope: str, attributes: list[str]) -> list[dict]:
    connection.search(base, query, search_scope=scope, attributes=attributes, size_limit=2)
    code = connection.result["result"]
    if code not in (SUCCESS, SIZE_LIMIT_EXCEEDED, NO_SUCH_OBJECT):
        raise unavailable("search", base=base, result=connection.result["description"])
    return [answer for answer in connection.response or [] if answer.get("type") == "searchResEntry"]


def find_user_dn(service: Connection, username: str) -> str | None:
    # RFC 4515 escaping: "*", "(", ")", "\" and NUL typed as a user name match only themselves.
    query = settings.CXR_LDAP_USER_FILTER.format(username=escape_filter_chars(username))
    entries = search(service, settings.CXR_LDAP_USER_SEARCH_BASE, query, SUBTREE, [])
    if len(entries) != 1:
        if entries:
            logger.warning("LDAP user filter %s matches more than one entry: refused", query)
        return None
    return entries[0]["dn"]


def read_entry(connection: Connection, dn: str) -> DirectoryEntry | None:
    names = [settings.CXR_LDAP_USERNAME_ATTRIBUTE, settings.CXR_LDAP_ID_ATTRIBUTE, "mail", "givenName", "sn"]
    entries = search(connection, dn, "(objectClass=*)", BASE, names)
    if not entries:
        return None
    attributes = entries[0]["attributes"]
    username, identity = first_value(attributes, names[0]), first_value(attributes, names[1])
    if not (username and identity):
        logger.warning("LDAP entry %s has no %s or no %s: refused", dn, names[0], names[1])
        return None
    return DirectoryEntry(
        dn=entries[0]["dn"],
        identity=identity,
        username=username,
        email=first_value(attributes, "mail"),
        first_name=first_value(attributes, "givenName"),
        last_name=first_value(attributes, "sn"),
        groups=member_groups(connection, entries[0]["dn"]),
    )


def first_value(attributes: dict, name: str) -> str:
    values = attributes.get(name) or []
    value = values[0] if isinstance(values, list) and values else values
    # Without the directory's schema, binary values (Active Directory's objectGUID) come as bytes.
    return value.hex() if isinstance(value, bytes) else str(value or "")


def member_groups(connection: Connection, dn: str) -> frozenset[str]:
    query = f"({settings.CXR_LDAP_GROUP_MEMBER_ATTRIBUTE}={escape_filter_chars(dn)})"
    groups = {*settings.CXR_LDAP_ADMIN_GROUPS, *settings.CXR_LDAP_CLINICIAN_GROUPS}
    return frozenset(group for group in groups if search(connection, group, query, BASE, []))
