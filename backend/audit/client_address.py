"""The address a request came from, as far as it can be trusted.

REMOTE_ADDR is the peer that connected to this process. Behind N reverse proxies that each append the
address they saw to X-Forwarded-For (nginx's $proxy_add_x_forwarded_for), the client is the N-th
entry from the right; anything further left was written by the client and may be forged. Set
CXR_TRUSTED_PROXY_COUNT to the number of proxies in front of the service (1 behind the bundled nginx).
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    remote = valid_address(request.META.get("REMOTE_ADDR", ""))
    trusted_proxies = settings.CXR_TRUSTED_PROXY_COUNT
    if trusted_proxies <= 0:
        return remote
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [entry for entry in forwarded if entry]
    if len(forwarded) < trusted_proxies:
        # Fewer hops than proxies: the request did not come through all of them; trust only the peer.
        return remote
    return valid_address(forwarded[-trusted_proxies]) or remote


def valid_address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None
