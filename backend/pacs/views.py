import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditAction
from audit.services import audit_record
from pacs.fhir import study_fhir_report
from studies.selectors import study_get


class StudyFhirView(APIView):
    @extend_schema(
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="A FHIR R4 DiagnosticReport")},
        summary="A finished study as a FHIR R4 DiagnosticReport",
        description=(
            "One contained Observation per finding (SNOMED CT coded: probability, threshold, positive, "
            "calibrated score) and a contained Device naming the model card. 400 before the analysis is done."
        ),
    )
    def get(self, request: Request, study_id: uuid.UUID) -> Response:
        study = study_get(user=request.user, study_id=study_id)
        report = study_fhir_report(study=study)
        # The FHIR report is an export of the study's results, audited as the PDF report is.
        audit_record(
            action=AuditAction.REPORT_DOWNLOAD,
            request=request,
            target_type="study",
            target_id=study.id,
            detail={"format": "fhir"},
        )
        return Response(report)
