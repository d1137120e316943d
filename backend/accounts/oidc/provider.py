"""The hospital's OpenID provider, as its discovery document describes it, and its signing keys."""

from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache
from joserfc.jwk import KeySet

from common.errors import DomainError

HTTP_TIMEOUT_SECONDS = 10


class ProviderUnavailableError(DomainError):
    status_code = 503


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    # Absent where the provider does not offer RP-initiated logout.
    end_session_endpoint: str | None


def oidc_enabled() -> bool:
    return bool(settings.CXR_OIDC_ISSUER)


def provider_get_json(url: str) -> dict[str, Any]:
    try:
        answer = requests.get(url, timeout=HTTP_TIMEOUT_SECONDS)
        answer.raise_for_status()
        document = answer.json()
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailableError(
            "The hospital's sign-in provider cannot be reached; try again later, or sign in with a "
            "local account.",
            extra={"url": url, "error": type(error).__name__},
        ) from error
    if not isinstance(document, dict):
        raise ProviderUnavailableError(
            "The hospital's sign-in provider answered nonsense.", extra={"url": url}
        )
    return document


def provider_metadata() -> ProviderMetadata:
    issuer = settings.CXR_OIDC_ISSUER
    key = f"oidc:metadata:{issuer}"
    document = cache.get(key)
    if document is None:
        document = provider_get_json(f"{issuer}/.well-known/openid-configuration")
        # OpenID Connect Discovery 1.0 §4.3: the document must name the issuer it was asked for,
        # or its tokens could be another issuer's.
        if str(document.get("issuer", "")).rstrip("/") != issuer:
            raise ProviderUnavailableError(
                "The sign-in provider's discovery document names another issuer: check CXR_OIDC_ISSUER.",
                extra={"configured": issuer, "advertised": document.get("issuer")},
            )
        missing = [
            name
            for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")
            if not document.get(name)
        ]
        if missing:
            raise ProviderUnavailableError(
                "The sign-in provider's discovery document lacks endpoints.", extra={"missing": missing}
            )
        cache.set(key, document, timeout=settings.CXR_OIDC_METADATA_SECONDS)
    return ProviderMetadata(
        issuer=str(document["issuer"]),
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        end_session_endpoint=document.get("end_session_endpoint") or None,
    )


def provider_keys(*, refresh: bool = False) -> KeySet:
    """The provider's public signing keys; ``refresh`` fetches them again (after a key rotation)."""
    key = f"oidc:jwks:{settings.CXR_OIDC_ISSUER}"
    jwks = None if refresh else cache.get(key)
    if jwks is None:
        jwks = provider_get_json(provider_metadata().jwks_uri)
        cache.set(key, jwks, timeout=settings.CXR_OIDC_METADATA_SECONDS)
    return KeySet.import_key_set(jwks)
