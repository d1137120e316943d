import uuid
from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.parsers import BaseParser
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditAction
from audit.services import audit_record
from common.errors import DomainError
from common.serializers import ErrorSerializer
from pacs.fhir import study_fhir_report
from pacs.models import ReceivedImage, ReceivedProtocol
from pacs.selectors import dicom_nodes, filing_queue
from pacs.serializers import DicomNodesSerializer, StudyPacsSerializer, study_pacs_data
from pacs.services import pacs_received, received_image_store
from pacs.statuses import refusal_comment, refusal_status
from pacs.stow import BodyPart, multipart_related_parts, sop_reference, stow_body_limit
from studies.idempotency import IDEMPOTENCY_KEY_PARAMETER, fingerprint_of, idempotent_answer
from studies.selectors import study_get
from studies.throttles import UploadRateThrottle
from studies.upload_limits import upload_too_large

# The send queue as the admin page shows it: enough to see what is stuck and why.
QUEUE_SHOWN = 100


class StudyFhirView(APIView):
    @extend_schema(
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="A FHIR R4 DiagnosticReport")},
        summary="A finished study as a FHIR R4 DiagnosticReport",
        description=(
            "One contained Observation per finding (SNOMED CT coded: probability, threshold, positive, "
            "calibrated score) and per analyser result (screener, cardiothoracic ratio, a CT study's "
            "patient-level result), and a contained Device per model card. 400 before the analysis is done."
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


class StudyPacsView(APIView):
    @extend_schema(
        responses=StudyPacsSerializer,
        summary="Whether a PACS sent the study, and whether its results were sent back to it",
    )
    def get(self, request: Request, study_id: uuid.UUID) -> Response:
        study = study_get(user=request.user, study_id=study_id)
        received = ReceivedImage.objects.filter(study=study).first()
        return Response(StudyPacsSerializer(study_pacs_data(received)).data)


class DicomNodesView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        responses=DicomNodesSerializer,
        summary="DICOM nodes (listener, PACS destination), their last contact and the send queue (admins)",
    )
    def get(self, request: Request) -> Response:
        queue = filing_queue()[:QUEUE_SHOWN]
        return Response(DicomNodesSerializer({"nodes": dicom_nodes(), "queue": queue}).data)


class MultipartRelatedParser(BaseParser):
    """Reads a STOW-RS body within its size limit and splits it into its DICOM parts."""

    media_type = "multipart/related"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> list[BodyPart]:
        limit = stow_body_limit()
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise upload_too_large(len(body))
        return multipart_related_parts(content_type=media_type or "", body=body)


def stow_fingerprint(request: Request) -> str:
    parts = request.data if isinstance(request.data, list) else []
    return fingerprint_of(
        route="dicomweb-stow", parts=([part.content_type.encode(), part.data] for part in parts)
    )


def sequence(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"vr": "SQ", "Value": items}


class StowView(APIView):
    parser_classes = [MultipartRelatedParser]
    throttle_classes = [UploadRateThrottle]

    @extend_schema(
        request={"multipart/related": OpenApiTypes.BINARY},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="DICOM JSON: every instance stored"),
            202: OpenApiResponse(OpenApiTypes.OBJECT, description="DICOM JSON: some instances refused"),
            409: OpenApiResponse(ErrorSerializer, description="No instance stored; extra.dicom says why"),
            422: OpenApiResponse(
                ErrorSerializer, description="An Idempotency-Key already used for other content"
            ),
        },
        summary="DICOMweb STOW-RS: store chest radiographs sent by a PACS",
        description=(
            'multipart/related; type="application/dicom". Each instance becomes a study of the caller, '
            "through the same screening and de-identification as an upload; the DICOM JSON answer lists "
            "stored instances (00081199, with the study's URL in 00081190) and refused ones (00081198, "
            "with the failure reason in 00081197 and its text in 00000902)."
        ),
    )
    def post(self, request: Request) -> Response:
        if int(request.META.get("CONTENT_LENGTH") or 0) > stow_body_limit():
            raise upload_too_large(int(request.META["CONTENT_LENGTH"]))
        return idempotent_answer(
            view=self,
            request=request,
            fingerprint=lambda: stow_fingerprint(request),
            answer=lambda: self.store(request),
        )

    def store(self, request: Request) -> Response:
        if not isinstance(request.data, list):
            # An empty body never reaches the parser.
            raise DomainError("The multipart/related body holds no DICOM instance.", extra={"parts": 0})
        stored: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for part in request.data:
            received = pacs_received(part.data)
            reference = sop_reference(received)
            try:
                study = received_image_store(
                    received=received, owner=request.user, protocol=ReceivedProtocol.STOW_RS, request=request
                )
            except DomainError as error:
                failed.append(
                    {
                        **reference,
                        "00081197": {"vr": "US", "Value": [refusal_status(error)]},
                        "00000902": {"vr": "LO", "Value": [refusal_comment(error)[:64]]},
                    }
                )
                continue
            url = reverse("study-detail", kwargs={"study_id": study.id})
            stored.append({**reference, "00081190": {"vr": "UR", "Value": [request.build_absolute_uri(url)]}})
        answer: dict[str, Any] = {}
        if stored:
            answer["00081199"] = sequence(stored)
        if failed:
            answer["00081198"] = sequence(failed)
        if not stored:
            raise DomainError("No instance was stored.", status_code=409, extra={"dicom": answer})
        return Response(answer, status=200 if not failed else 202, content_type="application/dicom+json")
