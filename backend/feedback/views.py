import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditAction
from audit.services import audit_record
from feedback.selectors import feedback_list
from feedback.serializers import FindingFeedbackInputSerializer, FindingFeedbackSerializer
from feedback.services import feedback_set
from studies.selectors import study_get


class StudyFeedbackListView(APIView):
    @extend_schema(
        responses=FindingFeedbackSerializer(many=True), summary="My feedback on a study's findings"
    )
    def get(self, request: Request, study_id: uuid.UUID) -> Response:
        study = study_get(user=request.user, study_id=study_id)
        return Response(
            FindingFeedbackSerializer(feedback_list(study=study, user=request.user), many=True).data
        )


class StudyFeedbackDetailView(APIView):
    @extend_schema(
        request=FindingFeedbackInputSerializer,
        responses=FindingFeedbackSerializer,
        summary="Agree, disagree or be unsure about one finding, with an optional note",
    )
    def put(self, request: Request, study_id: uuid.UUID, label: str) -> Response:
        study = study_get(user=request.user, study_id=study_id)
        serializer = FindingFeedbackInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        feedback = feedback_set(study=study, user=request.user, label=label, **serializer.validated_data)
        audit_record(
            action=AuditAction.FEEDBACK,
            request=request,
            target_type="study",
            target_id=study.id,
            detail={"label": label, "verdict": feedback.verdict, "note": bool(feedback.note)},
        )
        return Response(FindingFeedbackSerializer(feedback).data, status=status.HTTP_200_OK)
