from django.conf import settings
from django.contrib.auth.models import update_last_login
from django.http import HttpResponseRedirect
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.oidc.flow import (
    FLOW_COOKIE,
    FLOW_COOKIE_PATH,
    FLOW_SECONDS,
    end_session_url,
    flow_begin,
    flow_cookie_value,
    flow_finish,
    flow_from_cookie,
)
from accounts.oidc.provider import oidc_enabled, provider_metadata
from accounts.oidc.serializers import OidcCallbackSerializer, OidcConfigSerializer, OidcSignedInSerializer
from accounts.oidc.users import oidc_user_sign_in
from audit.models import AuditAction
from audit.services import audit_record
from common.errors import DomainError, NotFoundError
from common.serializers import ErrorSerializer

NOT_CONFIGURED = "Hospital sign-in is not configured (CXR_OIDC_ISSUER)."


def require_oidc() -> None:
    if not oidc_enabled():
        raise NotFoundError(NOT_CONFIGURED)


class OidcConfigView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(responses=OidcConfigSerializer, summary="Whether hospital sign-in is offered, and by whom")
    def get(self, request: Request) -> Response:
        return Response({"enabled": oidc_enabled(), "provider_name": settings.CXR_OIDC_PROVIDER_NAME})


class OidcAuthorizeView(APIView):
    """The browser goes here (a link, not a fetch) and on to the provider's sign-in page."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        responses={
            302: OpenApiResponse(
                description="To the provider's authorization endpoint, with the flow cookie."
            ),
            404: OpenApiResponse(ErrorSerializer, description=NOT_CONFIGURED),
        },
        summary="Start hospital sign-in (OpenID Connect, authorization code with PKCE)",
    )
    def get(self, request: Request) -> HttpResponseRedirect:
        require_oidc()
        url, flow = flow_begin()
        response = HttpResponseRedirect(url)
        response.set_cookie(
            FLOW_COOKIE,
            flow_cookie_value(flow),
            max_age=FLOW_SECONDS,
            path=FLOW_COOKIE_PATH,
            httponly=True,
            secure=settings.CXR_HTTPS,
            samesite="Lax",
        )
        return response


class OidcCallbackView(APIView):
    """The web app's /sign-in/callback posts what the provider sent back; the answer is the
    service's own tokens, as for a local sign-in."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=OidcCallbackSerializer,
        responses={
            200: OidcSignedInSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="Not the sign-in this browser started (no or expired flow cookie, state "
                "mismatch), or the provider refused the code (extra.reason says which).",
            ),
            401: OpenApiResponse(
                ErrorSerializer,
                description="The ID token failed a check: its signature, issuer, audience, times or nonce.",
            ),
            403: OpenApiResponse(
                ErrorSerializer,
                description="The hospital account has no role in the service (the role claim is missing "
                "or has none of the configured values), no user name, or its user is deactivated.",
            ),
            404: OpenApiResponse(ErrorSerializer, description=NOT_CONFIGURED),
            409: OpenApiResponse(
                ErrorSerializer, description="A local account already has the hospital account's name."
            ),
        },
        summary="Finish hospital sign-in: the code for the service's JWTs",
    )
    def post(self, request: Request) -> Response:
        require_oidc()
        serializer = OidcCallbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            flow = flow_from_cookie(request.COOKIES.get(FLOW_COOKIE))
            signed_in = flow_finish(flow=flow, **serializer.validated_data)
            user = oidc_user_sign_in(issuer=provider_metadata().issuer, claims=signed_in.claims)
        except DomainError as error:
            audit_record(
                action=AuditAction.SIGN_IN_FAILED,
                request=request,
                detail={"method": "oidc", "reason": error.message, **error.extra},
            )
            raise
        refresh = RefreshToken.for_user(user)
        update_last_login(None, user)
        audit_record(
            action=AuditAction.SIGN_IN,
            request=request,
            actor=user,
            target_type="user",
            target_id=user.pk,
            detail={"method": "oidc", "role": user.role},
        )
        response = Response(
            OidcSignedInSerializer(
                {
                    "access": str(refresh.access_token),
                    "refresh": str(refresh),
                    "end_session_url": end_session_url(id_token=signed_in.id_token),
                }
            ).data
        )
        # The flow is single use: its cookie goes with its first answer.
        response.delete_cookie(FLOW_COOKIE, path=FLOW_COOKIE_PATH)
        return response
