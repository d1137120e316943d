"""The authorization code flow with PKCE (RFC 7636) and the ID token's checks (OpenID Connect Core
§3.1.3.7).

The browser starts the flow at the service, which keeps the flow's secrets (state, nonce, PKCE
verifier) in a signed, HttpOnly cookie scoped to the sign-in routes: the callback must come from
the browser that started it (state), with an ID token minted for this flow (nonce), and the code is
only good with the verifier that never left the service (PKCE, checked by the provider).
"""

from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare
from joserfc import jwt
from joserfc.errors import ClaimError, JoseError
from requests import RequestException

from accounts.oidc.provider import ProviderUnavailableError, provider_keys, provider_metadata
from common.errors import DomainError

FLOW_COOKIE = "cxr_oidc_flow"
FLOW_COOKIE_PATH = "/api/auth/oidc/"
FLOW_SECONDS = 600
FLOW_SALT = "accounts.oidc.flow"
# Asymmetric algorithms only: an HMAC-signed ID token would be keyed with the client secret.
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]
CLOCK_LEEWAY_SECONDS = 60


class SignInRefusedError(DomainError):
    """The provider or its answer failed a check: the browser should start again."""


class IdTokenError(DomainError):
    status_code = 401


@dataclass(frozen=True)
class SignInFlow:
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class SignedIn:
    claims: dict[str, Any]
    id_token: str


def oauth_session() -> OAuth2Session:
    secret = settings.CXR_OIDC_CLIENT_SECRET
    return OAuth2Session(
        settings.CXR_OIDC_CLIENT_ID,
        secret or None,
        scope=settings.CXR_OIDC_SCOPES,
        redirect_uri=settings.CXR_OIDC_REDIRECT_URI,
        code_challenge_method="S256",
        # A public client (no secret) proves itself by PKCE alone.
        token_endpoint_auth_method="client_secret_basic" if secret else "none",
    )


def flow_begin() -> tuple[str, SignInFlow]:
    """A new flow and the provider's address the browser goes to."""
    # 48 characters of [A-Za-z0-9]: a PKCE verifier needs 43 to 128 (RFC 7636 §4.1).
    flow = SignInFlow(state=generate_token(32), nonce=generate_token(32), code_verifier=generate_token(48))
    url, _ = oauth_session().create_authorization_url(
        provider_metadata().authorization_endpoint,
        state=flow.state,
        nonce=flow.nonce,
        code_verifier=flow.code_verifier,
    )
    return url, flow


def flow_cookie_value(flow: SignInFlow) -> str:
    return signing.dumps(asdict(flow), salt=FLOW_SALT)


def flow_from_cookie(value: str | None) -> SignInFlow:
    if not value:
        raise SignInRefusedError(
            "This sign-in was not started in this browser (or its cookie was refused): sign in again.",
            extra={"reason": "no_flow"},
        )
    try:
        return SignInFlow(**signing.loads(value, salt=FLOW_SALT, max_age=FLOW_SECONDS))
    except signing.SignatureExpired as error:
        raise SignInRefusedError(
            f"This sign-in took longer than {FLOW_SECONDS // 60} minutes: sign in again.",
            extra={"reason": "expired"},
        ) from error
    except (signing.BadSignature, TypeError) as error:
        raise SignInRefusedError("This sign-in's cookie is not the service's: sign in again.") from error


def flow_finish(*, flow: SignInFlow, code: str, state: str) -> SignedIn:
    """Checks the state, exchanges the code (with the PKCE verifier) and checks the ID token."""
    if not constant_time_compare(state, flow.state):
        raise SignInRefusedError(
            "The provider's answer is not for the sign-in this browser started (state mismatch): "
            "sign in again.",
            extra={"reason": "state_mismatch"},
        )
    try:
        token = oauth_session().fetch_token(
            provider_metadata().token_endpoint,
            grant_type="authorization_code",
            code=code,
            code_verifier=flow.code_verifier,
            timeout=10,
        )
    except OAuthError as error:
        raise SignInRefusedError(
            f"The sign-in provider refused the code: {error.description or error.error}.",
            extra={"reason": "code_refused", "error": error.error},
        ) from error
    except RequestException as error:
        raise ProviderUnavailableError(
            "The hospital's sign-in provider cannot be reached; try again later.",
            extra={"error": type(error).__name__},
        ) from error
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SignInRefusedError("The sign-in provider sent no ID token: is the openid scope requested?")
    return SignedIn(claims=id_token_claims(id_token, nonce=flow.nonce), id_token=id_token)


def id_token_claims(id_token: str, *, nonce: str) -> dict[str, Any]:
    """The ID token's claims, once its signature (by the provider's keys), issuer, audience, times
    and nonce are checked."""
    try:
        token = decode_with_provider_keys(id_token)
    except (JoseError, ValueError) as error:
        raise IdTokenError(
            "The ID token's signature is not the sign-in provider's.", extra={"reason": "bad_signature"}
        ) from error
    registry = jwt.JWTClaimsRegistry(
        leeway=CLOCK_LEEWAY_SECONDS,
        iss={"essential": True, "value": provider_metadata().issuer},
        aud={"essential": True, "value": settings.CXR_OIDC_CLIENT_ID},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(token.claims)
    except ClaimError as error:
        if error.claim == "nonce":
            raise IdTokenError(
                "The ID token was not minted for the sign-in this browser started (nonce mismatch): "
                "sign in again.",
                extra={"reason": "nonce_mismatch"},
            ) from error
        raise IdTokenError(
            f"The ID token failed a check: {error.description}.",
            extra={"reason": "bad_claims", "claim": error.claim},
        ) from error
    return dict(token.claims)


def decode_with_provider_keys(id_token: str) -> jwt.Token:
    try:
        return jwt.decode(id_token, provider_keys(), algorithms=ID_TOKEN_ALGORITHMS)
    except (JoseError, ValueError):
        # The provider may have rotated its keys since they were kept: fetch them once more.
        return jwt.decode(id_token, provider_keys(refresh=True), algorithms=ID_TOKEN_ALGORITHMS)


def end_session_url(*, id_token: str) -> str | None:
    """Where the browser goes to end its session at the provider too (RP-initiated logout 1.0)."""
    endpoint = provider_metadata().end_session_endpoint
    if endpoint is None:
        return None
    query = {"id_token_hint": id_token, "client_id": settings.CXR_OIDC_CLIENT_ID}
    if settings.CXR_OIDC_POST_LOGOUT_REDIRECT_URI:
        query["post_logout_redirect_uri"] = settings.CXR_OIDC_POST_LOGOUT_REDIRECT_URI
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"
