"""The per-slice curve of a CT study as a PNG strip, drawn on request (ml.ct.strip)."""

import uuid

from django.core.files.base import ContentFile
from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from audit.models import AuditAction
from audit.services import audit_record
from common.errors import DomainError
from ml.ct.strip import ct_strip_png
from studies.ct import CT, ct_result_of
from studies.selectors import analyser_run_get, study_get
from studies.views import PNG_RESPONSE, private_png


class StudyCTStripView(APIView):
    @extend_schema(
        responses=PNG_RESPONSE,
        summary="A CT study's per-slice probabilities as a 512x48 PNG strip (first slice left)",
    )
    def get(self, request: Request, study_id: uuid.UUID) -> FileResponse:
        study = study_get(user=request.user, study_id=study_id)
        run = analyser_run_get(study=study, kind=CT)
        result = ct_result_of(study)
        if result is None:
            raise DomainError(
                f"The CT analysis is {run.status}; its strip exists once it is done.",
                status_code=409,
                extra={"status": run.status},
            )
        audit_record(
            action=AuditAction.IMAGE_DOWNLOAD,
            request=request,
            target_type="study",
            target_id=study.id,
            detail={"image": "ct-strip"},
        )
        return private_png(ContentFile(ct_strip_png(result)))
