"""A finding's explanations by each method: list them, ask for one, fetch its map as a PNG overlay.

Same access as the study (its owner, or an admin; anyone else gets the 404 of a missing study).
"""

import uuid

from django.core.files.base import ContentFile
from django.http import FileResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditAction
from audit.services import audit_record
from common.serializers import ErrorSerializer
from ml.classifier.explanations.explanation import METHODS
from studies.explanation_requests import checked_method, explanation_request
from studies.explanation_serializers import ExplanationSerializer, not_requested
from studies.explanations import explanation_png
from studies.models import Explanation, Study, StudyStatus
from studies.selectors import finding_get, study_get
from studies.views import PNG_RESPONSE, private_png

UNKNOWN_METHOD = OpenApiResponse(ErrorSerializer, description="Unknown method (extra.methods lists them).")
NOT_FOUND = OpenApiResponse(
    ErrorSerializer, description="No such study (or not yours), finding or explanation."
)


class ExplanationListView(APIView):
    @extend_schema(
        responses={200: ExplanationSerializer(many=True), 404: NOT_FOUND},
        summary="Every explanation method for one finding, with its status and faithfulness scores",
    )
    def get(self, request: Request, study_id: uuid.UUID, label: str) -> Response:
        study = study_get(user=request.user, study_id=study_id)
        finding = finding_get(study=study, label=label)
        kept = {
            explanation.method: explanation for explanation in study.explanations.filter(label=finding.label)
        }
        rows = [
            kept.get(method) or not_requested(study_id=study.id, label=finding.label, method=method)
            for method in METHODS
        ]
        return Response(ExplanationSerializer(rows, many=True).data)


class ExplanationDetailView(APIView):
    @extend_schema(
        responses={200: ExplanationSerializer, 400: UNKNOWN_METHOD, 404: NOT_FOUND},
        summary="One method's explanation of a finding (status not_requested until asked for)",
    )
    def get(self, request: Request, study_id: uuid.UUID, label: str, method: str) -> Response:
        _, explanation = kept_explanation(request, study_id, label, method)
        return Response(ExplanationSerializer(explanation).data)

    @extend_schema(
        request=None,
        responses={
            200: OpenApiResponse(ExplanationSerializer, description="Done: the map's scores and parameters."),
            202: OpenApiResponse(
                ExplanationSerializer, description="Queued or running: poll GET until done."
            ),
            400: UNKNOWN_METHOD,
            404: NOT_FOUND,
            409: OpenApiResponse(ErrorSerializer, description="The study is not analysed yet."),
        },
        summary="Ask for one method's explanation of a finding (computed once, then kept)",
        description="Idempotent: asking again returns the kept explanation, or the one being computed. "
        "A failed explanation is computed again.",
    )
    def post(self, request: Request, study_id: uuid.UUID, label: str, method: str) -> Response:
        study = study_get(user=request.user, study_id=study_id)
        finding = finding_get(study=study, label=label)
        explanation = explanation_request(study=study, finding=finding, method=method)
        done = explanation.status == StudyStatus.DONE
        return Response(
            ExplanationSerializer(explanation).data,
            status=status.HTTP_200_OK if done else status.HTTP_202_ACCEPTED,
        )


class ExplanationImageView(APIView):
    @extend_schema(
        responses={
            **PNG_RESPONSE,
            400: UNKNOWN_METHOD,
            404: NOT_FOUND,
            409: OpenApiResponse(ErrorSerializer, description="Not asked for, or not computed yet."),
        },
        summary="One method's map of a finding, RGBA at the radiograph's size",
    )
    def get(self, request: Request, study_id: uuid.UUID, label: str, method: str) -> FileResponse:
        study, explanation = kept_explanation(request, study_id, label, method)
        png = explanation_png(explanation)
        audit_record(
            action=AuditAction.HEATMAP_DOWNLOAD,
            request=request,
            target_type="study",
            target_id=study.id,
            detail={"label": explanation.label, "method": method},
        )
        return private_png(ContentFile(png))


def kept_explanation(
    request: Request, study_id: uuid.UUID, label: str, method: str
) -> tuple[Study, Explanation]:
    """The study's explanation (unsaved, not_requested, if nobody asked), for a user who may see the study."""
    study = study_get(user=request.user, study_id=study_id)
    finding = finding_get(study=study, label=label)
    checked_method(method)
    explanation = study.explanations.filter(label=finding.label, method=method).first()
    return study, explanation or not_requested(study_id=study.id, label=finding.label, method=method)
