from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.views import TokenObtainPairView

from accounts.models import User
from accounts.serializers import (
    PasswordResetSerializer,
    UserCreateSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from accounts.services import user_create, user_set_password, user_update
from accounts.throttles import FailedSignInThrottle, SignInAddressThrottle, SignInUsernameThrottle
from audit.models import AuditAction
from audit.services import audit_record
from common.errors import DomainError
from common.serializers import ErrorSerializer

DIRECTORY_BACKEND = "accounts.ldap.backend.DirectoryBackend"


class AuditedTokenObtainPairView(TokenObtainPairView):
    """Sign-in (username and password for a JWT pair), with every success and failure in the audit
    log, throttled after repeated failures per user name and per address (accounts.throttles)."""

    throttle_classes = [SignInUsernameThrottle, SignInAddressThrottle]

    def get_throttles(self) -> list[FailedSignInThrottle]:
        # The same instances for the whole request: each holds the place it took under its limit.
        if not hasattr(self, "sign_in_throttles"):
            self.sign_in_throttles = [throttle() for throttle in self.throttle_classes]
        return self.sign_in_throttles

    def release_throttles(self) -> None:
        for throttle in self.get_throttles():
            throttle.release()

    def throttled(self, request: Request, wait: float | None) -> None:
        # No password is checked: the places this attempt took are given back.
        self.release_throttles()
        audit_record(
            action=AuditAction.SIGN_IN_FAILED,
            request=request,
            username=attempted_username(request),
            detail={"reason": "throttled: too many failed sign-ins", "retry_after_seconds": round(wait or 0)},
        )
        super().throttled(request, wait)

    @extend_schema(
        responses={
            200: TokenObtainPairSerializer,
            403: OpenApiResponse(
                ErrorSerializer,
                description="A directory user (LDAP) in no group with a role here, or deactivated here.",
            ),
            409: OpenApiResponse(
                ErrorSerializer,
                description="A directory user whose name a local account without a password has.",
            ),
        },
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        failed = False
        try:
            serializer.is_valid(raise_exception=True)
        except AuthenticationFailed:
            # The places this attempt took under the limits stay taken: it counts as a failure.
            failed = True
            audit_record(
                action=AuditAction.SIGN_IN_FAILED,
                request=request,
                username=attempted_username(request),
                detail={"reason": "wrong username or password, or inactive account"},
            )
            raise
        except DomainError as error:
            # The hospital's directory (accounts.ldap) could not answer, or accepted the password of
            # someone with no role or a deactivated account here: no guess, so no place is kept.
            audit_record(
                action=AuditAction.SIGN_IN_FAILED,
                request=request,
                username=attempted_username(request),
                detail={"method": "ldap", "reason": error.message, "status": error.status_code},
            )
            raise
        except TokenError as error:
            raise InvalidToken(error.args[0]) from error
        finally:
            if not failed:
                self.release_throttles()
        audit_record(
            action=AuditAction.SIGN_IN,
            request=request,
            actor=serializer.user,
            target_type="user",
            target_id=serializer.user.pk,
            # Django's authenticate() names the backend that accepted the password.
            detail={"method": "ldap"} if serializer.user.backend == DIRECTORY_BACKEND else {},
        )
        return Response(serializer.validated_data, status=status.HTTP_200_OK)


def attempted_username(request: Request) -> str:
    return str(request.data.get("username", "")) if hasattr(request.data, "get") else ""


class MeView(APIView):
    @extend_schema(responses=UserSerializer, summary="The signed-in user")
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)


class UserListCreateView(generics.ListAPIView):
    """Admins list every user and create clinicians or admins."""

    permission_classes = [IsAdminUser]
    serializer_class = UserSerializer
    queryset = User.objects.order_by("username")

    @extend_schema(request=UserCreateSerializer, responses={201: UserSerializer})
    def post(self, request: Request) -> Response:
        serializer = UserCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_create(**serializer.validated_data)
        audit_record(
            action=AuditAction.USER_CREATE,
            request=request,
            target_type="user",
            target_id=user.pk,
            detail={"username": user.username, "role": user.role},
        )
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class UserDetailView(generics.RetrieveAPIView):
    """Admins read a user, change their role, deactivate or reactivate them."""

    permission_classes = [IsAdminUser]
    serializer_class = UserSerializer
    queryset = User.objects.all()

    @extend_schema(request=UserUpdateSerializer, responses=UserSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        serializer = UserUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_update(user=self.get_object(), acting_user=request.user, **serializer.validated_data)
        audit_record(
            action=AuditAction.USER_UPDATE,
            request=request,
            target_type="user",
            target_id=user.pk,
            detail={"username": user.username, **serializer.validated_data},
        )
        return Response(UserSerializer(user).data)


class UserPasswordView(generics.GenericAPIView):
    """Admins set a new password for a user; the user's sessions end at once."""

    permission_classes = [IsAdminUser]
    queryset = User.objects.all()
    serializer_class = PasswordResetSerializer

    @extend_schema(
        request=PasswordResetSerializer,
        responses={204: OpenApiResponse(description="Password changed; the user's tokens are revoked.")},
        summary="Reset a user's password (admins)",
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_set_password(user=self.get_object(), password=serializer.validated_data["password"])
        audit_record(
            action=AuditAction.PASSWORD_RESET,
            request=request,
            target_type="user",
            target_id=user.pk,
            detail={"username": user.username},
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
