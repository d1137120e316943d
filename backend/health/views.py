from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from health.checks import check_broker, check_cache, check_database, check_model
from health.serializers import HealthSerializer


class HealthView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        summary="Status of database, cache, broker and model",
        responses={
            200: OpenApiResponse(HealthSerializer, description="All OK"),
            503: OpenApiResponse(HealthSerializer, description="Degraded"),
        },
    )
    def get(self, request: Request) -> Response:
        checks = {
            "database": check_database(),
            "cache": check_cache(),
            "broker": check_broker(),
            "model": check_model(),
        }
        healthy = all(check["ok"] for check in checks.values())
        return Response(
            {"status": "ok" if healthy else "degraded", "checks": checks}, status=200 if healthy else 503
        )


class LivenessView(APIView):
    """The process answers: no dependency is checked, so a database outage never restarts web processes.

    /api/health/ stays the readiness check (every dependency). Both probes are for the orchestrator;
    this one is left out of the OpenAPI schema, which describes the API clients use.
    """

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})
