"""The clinician's report over REST: read and save the draft, sign it, amend it, read its versions."""

import uuid
from collections.abc import Callable

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from audit.models import AuditAction
from audit.services import audit_record
from common.errors import NotFoundError
from common.serializers import ErrorSerializer
from reports.models import ClinicianReport
from reports.selectors import report_versions
from reports.serializers import (
    ClinicianReportSerializer,
    ReportAmendSerializer,
    ReportSaveSerializer,
    ReportSignSerializer,
)
from reports.signing import report_amend, report_draft, report_save, report_sign, report_study_check
from studies.selectors import study_get

# What every operation of the report may answer besides the automatic statuses (common.schema).
READ_ERRORS = {
    400: OpenApiResponse(
        ErrorSerializer, description="The analysis is not done, or the study is a CT study."
    ),
    403: OpenApiResponse(ErrorSerializer, description="Neither the study's clinician nor an administrator."),
}
ERRORS = {
    **READ_ERRORS,
    409: OpenApiResponse(
        ErrorSerializer,
        description="The version named is no longer the latest, or is signed (amend it) or not signed.",
    ),
}


def audit_report(request: Request, report: ClinicianReport, step: str) -> None:
    """The first version's life is its sign-off; every later version is an amendment's."""
    audit_record(
        action=AuditAction.REPORT_SIGN_OFF if report.version == 1 else AuditAction.REPORT_AMEND,
        request=request,
        target_type="study",
        target_id=report.study_id,
        detail={"step": step, "version": report.version},
    )


def report_write(
    request: Request,
    study_id: uuid.UUID,
    serializer_class: type[Serializer],
    service: Callable[..., ClinicianReport],
    step: str,
    status: int = 200,
) -> Response:
    """Validate the body, call the service on the study, audit the step, answer the version."""
    study = study_get(user=request.user, study_id=study_id)
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    report = service(study=study, user=request.user, **serializer.validated_data)
    audit_report(request, report, step)
    return Response(ClinicianReportSerializer(report).data, status=status)


class ClinicianReportView(APIView):
    @extend_schema(
        responses={200: ClinicianReportSerializer, **READ_ERRORS},
        summary="The clinician's report: its latest version, or a draft written from the results",
    )
    def get(self, request: Request, study_id: uuid.UUID) -> Response:
        study = study_get(user=request.user, study_id=study_id)
        report_study_check(study=study, user=request.user)
        return Response(ClinicianReportSerializer(report_draft(study=study, user=request.user)).data)

    @extend_schema(
        request=ReportSaveSerializer,
        responses={200: ClinicianReportSerializer, **ERRORS},
        summary="Save the draft's text and impression (409: a stale version, or a signed one)",
    )
    def put(self, request: Request, study_id: uuid.UUID) -> Response:
        return report_write(request, study_id, ReportSaveSerializer, report_save, "draft_saved")


class ClinicianReportSignView(APIView):
    @extend_schema(
        request=ReportSignSerializer,
        responses={200: ClinicianReportSerializer, **ERRORS},
        summary="Sign the saved draft: it becomes the final report (and is filed again to the PACS)",
    )
    def post(self, request: Request, study_id: uuid.UUID) -> Response:
        return report_write(request, study_id, ReportSignSerializer, report_sign, "signed")


class ClinicianReportAmendView(APIView):
    @extend_schema(
        request=ReportAmendSerializer,
        responses={201: ClinicianReportSerializer, **ERRORS},
        summary="Amend the signed report: a new draft version, copied from it; the signed one is kept",
    )
    def post(self, request: Request, study_id: uuid.UUID) -> Response:
        return report_write(request, study_id, ReportAmendSerializer, report_amend, "opened", status=201)


class ClinicianReportVersionsView(APIView):
    @extend_schema(
        responses={200: ClinicianReportSerializer(many=True), **READ_ERRORS},
        summary="Every saved version of the clinician's report, oldest first",
    )
    def get(self, request: Request, study_id: uuid.UUID) -> Response:
        study = study_get(user=request.user, study_id=study_id)
        report_study_check(study=study, user=request.user)
        return Response(ClinicianReportSerializer(report_versions(study=study), many=True).data)


class ClinicianReportVersionView(APIView):
    @extend_schema(
        responses={200: ClinicianReportSerializer, **READ_ERRORS},
        summary="One saved version of the clinician's report",
    )
    def get(self, request: Request, study_id: uuid.UUID, version: int) -> Response:
        study = study_get(user=request.user, study_id=study_id)
        report_study_check(study=study, user=request.user)
        report = report_versions(study=study).filter(version=version).first()
        if report is None:
            raise NotFoundError(f"The report has no version {version}.", extra={"version": version})
        return Response(ClinicianReportSerializer(report).data)
