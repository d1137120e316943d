from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response

from audit.models import AuditEvent
from audit.selectors import audit_event_list
from audit.serializers import AuditEventQuerySerializer, AuditEventSerializer


class AuditEventListView(generics.ListAPIView):
    """Admins read the audit log, newest first, filtered by actor, action, target and day."""

    permission_classes = [IsAdminUser]
    serializer_class = AuditEventSerializer

    @extend_schema(parameters=[AuditEventQuerySerializer], summary="The audit log (admins)")
    def get(self, request: Request) -> Response:
        return super().get(request)

    def get_queryset(self) -> QuerySet[AuditEvent]:
        query = AuditEventQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return audit_event_list(**query.validated_data)
