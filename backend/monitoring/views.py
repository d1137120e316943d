import re

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import DomainError
from common.serializers import ErrorSerializer
from monitoring.selectors import acceptance_run_get, acceptance_run_list, drift_snapshot_list
from monitoring.serializers import (
    AcceptanceRunInputSerializer,
    AcceptanceRunSerializer,
    AcceptanceRunSummarySerializer,
    DriftSerializer,
)
from monitoring.services import acceptance_run_create, acceptance_run_profile
from studies.inference import active_model_card

MAX_DAYS = 366


class AcceptanceRunListView(APIView):
    permission_classes = [IsAdminUser]
    parser_classes = [MultiPartParser]

    @extend_schema(responses=AcceptanceRunSummarySerializer(many=True), summary="The latest acceptance runs")
    def get(self, request: Request) -> Response:
        return Response(AcceptanceRunSummarySerializer(acceptance_run_list(), many=True).data)

    @extend_schema(
        request={"multipart/form-data": AcceptanceRunInputSerializer},
        responses={
            202: AcceptanceRunSerializer,
            413: OpenApiResponse(ErrorSerializer, description="A zip member or the zip over a limit."),
        },
        summary="Start a site acceptance run on an uploaded labelled set or on the studies with verdicts",
    )
    def post(self, request: Request) -> Response:
        serializer = AcceptanceRunInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        run = acceptance_run_create(
            user=request.user,
            source=data["source"],
            targets=data["targets"],
            threshold_rule=data["threshold_rule"],
            archive=data["images"].read() if data.get("images") else None,
            labels_csv=data["labels"].read() if data.get("labels") else None,
            model_version=data["model_version"],
            request=request,
        )
        return Response(AcceptanceRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class AcceptanceRunDetailView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(responses=AcceptanceRunSerializer, summary="One acceptance run and its result")
    def get(self, request: Request, run_id: int) -> Response:
        return Response(AcceptanceRunSerializer(acceptance_run_get(run_id=run_id)).data)


class AcceptanceRunProfileView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        parameters=[OpenApiParameter("name", str, description="The profile's name (default site)")],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            409: OpenApiResponse(ErrorSerializer, description="No result yet, or an untrained model."),
        },
        summary="The thresholds the run's rule chose, as a threshold profile bound to its weights",
        description="409 while the run has no result, or for an untrained model (no site thresholds).",
    )
    def get(self, request: Request, run_id: int) -> Response:
        profile = acceptance_run_profile(
            run=acceptance_run_get(run_id=run_id), name=request.query_params.get("name", "site")
        )
        response = Response(profile.to_dict())
        response["Content-Disposition"] = f'attachment; filename="{profile.identity}.json"'
        return response


class DriftView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        parameters=[OpenApiParameter("days", int, description=f"How many days back (1 to {MAX_DAYS}, 90)")],
        responses=DriftSerializer,
        summary="The active model's daily monitoring snapshots and the drift thresholds",
    )
    def get(self, request: Request) -> Response:
        text = request.query_params.get("days", "90")
        if not re.fullmatch(r"[0-9]{1,3}", text) or not 1 <= int(text) <= MAX_DAYS:
            raise DomainError(f"days must be a whole number from 1 to {MAX_DAYS}.", extra={"field": "days"})
        card = active_model_card()
        return Response(
            DriftSerializer(
                {
                    "model_name": card.name,
                    "model_version": card.version,
                    "trained": card.trained,
                    "thresholds": {
                        "psi": settings.CXR_DRIFT_PSI_THRESHOLD,
                        "ks_p_value": settings.CXR_DRIFT_KS_P_VALUE,
                        "refusal_rate": settings.CXR_DRIFT_REFUSAL_RATE,
                        "min_studies": settings.CXR_DRIFT_MIN_STUDIES,
                    },
                    "snapshots": drift_snapshot_list(days=int(text)),
                }
            ).data
        )
