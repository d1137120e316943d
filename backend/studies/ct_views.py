"""A CT study's pictures drawn on request: the per-slice curve as a PNG strip (ml.ct.strip), and each
slice as the CT model was shown it (its prepared input: lung window, the card's input size)."""

import uuid

from django.core.files.base import ContentFile
from django.http import FileResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from audit.models import AuditAction
from audit.services import audit_record
from common.errors import DomainError
from common.serializers import ErrorSerializer
from ml.ct.intake import PreparedCT
from ml.ct.strip import ct_strip_png
from ml.images.rendering import encode_png
from studies import storage
from studies.ct import CT, ct_result_of
from studies.models import ImageKind
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


class StudyCTSliceView(APIView):
    @extend_schema(
        responses={
            **PNG_RESPONSE,
            400: OpenApiResponse(ErrorSerializer, description="The study is a radiograph: it has no slices."),
        },
        summary="One slice of a CT study as the CT model saw it (lung window, its input size), first is 0",
        description=(
            "For scrolling through the series on the study page. Not audited slice by slice: opening "
            "the study is (a scroll would write one event per slice)."
        ),
    )
    def get(self, request: Request, study_id: uuid.UUID, index: int) -> FileResponse:
        study = study_get(user=request.user, study_id=study_id)
        image = study.key_image
        if image.kind != ImageKind.CT or not image.model_input_file:
            raise DomainError("This study has no CT slices.", extra={"kind": image.kind})
        slices = PreparedCT.from_bytes(storage.read_file(image.model_input_file.name)).grey_levels
        if index >= len(slices):
            raise DomainError(
                f"The series has {len(slices)} slices, numbered from 0.",
                status_code=404,
                extra={"index": index, "slices": len(slices)},
            )
        return private_png(ContentFile(encode_png(slices[index])))
