"""The admin API of the deployments (thin: validate, call a service, answer the overview)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.serializers import ErrorSerializer
from deployments import services
from deployments.models import DeploymentState
from deployments.selectors import model_versions_list, threshold_profiles_list, weights_on_server
from deployments.serializers import (
    DeploymentsOverviewSerializer,
    ProfileActivateSerializer,
    ProfileUploadSerializer,
    ServerWeightsInstallSerializer,
    ServerWeightsSerializer,
    ShadowStartSerializer,
    ThresholdProfileSerializer,
    overview_of,
)

REFUSED = OpenApiResponse(ErrorSerializer, description="Refused (the message says why); nothing was changed.")


def overview(state: DeploymentState) -> Response:
    return Response(overview_of(state, model_versions_list(), threshold_profiles_list()))


class DeploymentsView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        responses=DeploymentsOverviewSerializer,
        summary="Installed models and profiles; active, shadow, previous",
    )
    def get(self, request: Request) -> Response:
        return overview(services.deployment_state_ensure())


class ServerWeightsView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        responses=ServerWeightsSerializer(many=True),
        summary="The weights folders the operator put under CXR_WEIGHTS_ROOT, installed or not",
    )
    def get(self, request: Request) -> Response:
        return Response(ServerWeightsSerializer(weights_on_server(), many=True).data)

    @extend_schema(
        request=ServerWeightsInstallSerializer,
        responses={200: DeploymentsOverviewSerializer, 400: REFUSED},
        summary="Install one of those weights folders as a model version (audited)",
    )
    def post(self, request: Request) -> Response:
        serializer = ServerWeightsInstallSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.model_version_install_from_server(
            weights_dir=serializer.validated_data["weights_dir"], request=request
        )
        return overview(services.deployment_state_ensure())


class ThresholdProfilesView(APIView):
    permission_classes = [IsAdminUser]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": ProfileUploadSerializer},
        responses={201: ThresholdProfileSerializer, 400: REFUSED},
        summary="Install a threshold profile file (refused for weights not installed here)",
    )
    def post(self, request: Request) -> Response:
        serializer = ProfileUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        profile = services.threshold_profile_install(
            document=serializer.validated_data["file"], user=request.user, request=request
        )
        return Response(ThresholdProfileSerializer(profile).data, status=status.HTTP_201_CREATED)


class ProfileActivateView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        request=ProfileActivateSerializer,
        responses={200: DeploymentsOverviewSerializer, 400: REFUSED},
        summary="Analyse under a threshold profile of the active weights, or the card's own (audited)",
    )
    def post(self, request: Request) -> Response:
        serializer = ProfileActivateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return overview(
            services.threshold_profile_activate(profile=serializer.validated_data["profile"], request=request)
        )


class ShadowView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        request=ShadowStartSerializer,
        responses={200: DeploymentsOverviewSerializer, 400: REFUSED},
        summary="Run a candidate (weights and profile) in shadow on each live study (audited)",
    )
    def post(self, request: Request) -> Response:
        serializer = ShadowStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return overview(services.shadow_start(**serializer.validated_data, request=request))

    @extend_schema(
        responses={200: DeploymentsOverviewSerializer, 400: REFUSED},
        summary="Stop the shadow candidate (its stored results are kept; audited)",
    )
    def delete(self, request: Request) -> Response:
        return overview(services.shadow_stop(request=request))


class PromoteView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        request=None,
        responses={200: DeploymentsOverviewSerializer, 400: REFUSED},
        summary="Make the shadow candidate the active model; the active one is kept for a rollback (audited)",
    )
    def post(self, request: Request) -> Response:
        return overview(services.model_promote(request=request))


class RollbackView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        request=None,
        responses={200: DeploymentsOverviewSerializer, 400: REFUSED},
        summary="Return to the model active before (audited)",
    )
    def post(self, request: Request) -> Response:
        return overview(services.model_rollback(request=request))
