import json
import uuid
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from audit.models import AuditAction
from audit.services import audit_record
from reports.serializers import ReportQuerySerializer
from reports.services import ReportRequest, report_labels, study_report_pdf
from studies.ct import refuse_ct_export
from studies.selectors import study_get
from studies.serializers import StudyDetailSerializer


class PdfRenderer(BaseRenderer):
    """Lets clients ask for application/pdf; errors still go out as the JSON error shape."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return data if isinstance(data, bytes) else json.dumps(data).encode()


class StudyReportView(APIView):
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        parameters=[ReportQuerySerializer],
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)},
        summary="A PDF report of a finished study",
        description=(
            "Radiograph, the heatmaps of the chosen findings, the findings against their thresholds, the "
            "model card, when and by whom the report was made. Made on the server for each request."
        ),
    )
    def get(self, request: Request, study_id: uuid.UUID) -> HttpResponse:
        study = study_get(user=request.user, study_id=study_id)
        refuse_ct_export(study, "PDF report")
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        labels = report_labels(study=study, requested=query.validated_data.get("labels"))
        pdf = study_report_pdf(
            ReportRequest(
                study=study,
                user=request.user,
                labels=labels,
                generated_at=timezone.now(),
                # The study's image metadata, where the study detail has it (DICOM uploads).
                metadata=StudyDetailSerializer(study).data.get("metadata"),
            )
        )
        audit_record(
            action=AuditAction.REPORT_DOWNLOAD,
            request=request,
            target_type="study",
            target_id=study.id,
            detail={"labels": list(labels)},
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="cxr-report-{study.id}.pdf"'
        response["Cache-Control"] = "private, no-store"
        return response
