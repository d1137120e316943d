"""Calling AE titles and the addresses a DICOM sender may call from, as an admin writes them."""

import ipaddress

from django.core.exceptions import ValidationError

# PS3.5 6.2: an AE title is 1 to 16 characters of the default repertoire, no backslash or control.
AE_TITLE_LENGTH = 16


def ae_title_validator(value: str) -> None:
    title = value.strip()
    if not 0 < len(title) <= AE_TITLE_LENGTH or title != value:
        raise ValidationError("An AE title is 1 to 16 characters, without leading or trailing spaces.")
    if not title.isascii() or "\\" in title or any(ord(char) < 32 for char in title):
        raise ValidationError("An AE title holds printable ASCII characters other than a backslash.")


def address_networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The networks of a comma-separated list of addresses or CIDR networks; ValueError if one is not."""
    return [ipaddress.ip_network(item.strip(), strict=False) for item in value.split(",") if item.strip()]


def addresses_validator(value: str) -> None:
    try:
        address_networks(value)
    except ValueError as error:
        raise ValidationError(f"Not an IP address or network: {error}") from error


def address_allowed(address: str, allowed: str) -> bool:
    """Whether ``address`` is in one of the ``allowed`` networks (none listed: any address)."""
    networks = address_networks(allowed)
    if not networks:
        return True
    try:
        caller = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(caller in network for network in networks)
