import uuid
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import connections
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponseBase, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import generics, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditAction
from audit.services import audit_record
from common.serializers import ErrorSerializer
from ml.segmentation.analyser import SEGMENTATION
from studies.events import study_event_stream
from studies.heatmaps import image_heatmap_png
from studies.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent_answer, uploaded_files_fingerprint
from studies.models import Study, StudyImage
from studies.patients import reference_patient_key
from studies.segmentation import segmentation_outlines
from studies.selectors import (
    analyser_run_get,
    image_finding_get,
    study_get,
    study_image_get,
    study_list,
    study_prior_get,
)
from studies.serializers import (
    ReadyEventSerializer,
    SegmentationOutlinesSerializer,
    StudyChangeEventSerializer,
    StudyCreatedSerializer,
    StudyCreateSerializer,
    StudyDetailSerializer,
    StudyListQuerySerializer,
    StudySummarySerializer,
)
from studies.services import study_create
from studies.throttles import UploadRateThrottle
from studies.triage import study_mark_read
from studies.upload_limits import study_upload_body_limit, upload_too_large

PNG_RESPONSE = {(200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY)}


class StudyListCreateView(generics.ListAPIView):
    serializer_class = StudySummarySerializer
    parser_classes = [MultiPartParser]

    def get_throttles(self) -> list[UploadRateThrottle]:
        return [UploadRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(parameters=[StudyListQuerySerializer], summary="My studies (all studies for an admin)")
    def get(self, request: Request) -> Response:
        return super().get(request)

    def get_queryset(self) -> QuerySet[Study]:
        query = StudyListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return study_list(user=self.request.user, **query.validated_data)

    @extend_schema(
        request={"multipart/form-data": StudyCreateSerializer},
        responses={
            201: StudyCreatedSerializer,
            202: StudyCreatedSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description=(
                    "Unreadable, empty, no file or too many files, DICOM files of different studies or "
                    "patients, files naming no patient beside DICOM files naming one without a "
                    "patient_reference, or a patient_reference that is not the DICOM files' patient."
                ),
            ),
            413: OpenApiResponse(
                ErrorSerializer, description="A file is larger than the limit, or has too many pixels."
            ),
            422: OpenApiResponse(
                ErrorSerializer,
                description=(
                    "Readable, but not a frontal chest radiograph (extra.reason, extra.tag); several "
                    "files: laterals without a frontal image; or an Idempotency-Key already used for "
                    "other files."
                ),
            ),
        },
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        summary="Upload a radiograph, or several radiographs as one study",
        description=(
            "202 when queued for analysis; 201 with cached=true when answered from the result cache. "
            "Several files (images) make one study; if any is refused, nothing is stored and "
            "extra.refused names each refused file with its status and reason. With an "
            "Idempotency-Key header, a retry with the same key and files gets the first answer again "
            "(Idempotent-Replayed: true) and stores nothing; the same key with other files is 422."
        ),
    )
    def post(self, request: Request) -> Response:
        # Refuse an oversized body from its declared length, before the multipart parser reads it
        # (under ASGI, config/request_limits.py has refused it before Django read it).
        declared_length = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared_length > study_upload_body_limit():
            raise upload_too_large(declared_length)
        return idempotent_answer(
            view=self,
            request=request,
            fingerprint=lambda: uploaded_files_fingerprint(
                route="studies",
                files=request.FILES,
                patient_key=reference_patient_key(str(request.data.get("patient_reference", "")).strip()),
            ),
            answer=lambda: self.create(request),
        )

    def create(self, request: Request) -> Response:
        serializer = StudyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        study = study_create(
            owner=request.user,
            uploads=serializer.uploads,
            patient_reference=serializer.validated_data.get("patient_reference", ""),
        )
        audit_record(
            action=AuditAction.STUDY_UPLOAD,
            request=request,
            target_type="study",
            target_id=study.id,
            detail={
                "filename": study.key_image.original_filename,
                "cached": study.from_cache,
                **({"images": len(serializer.uploads)} if len(serializer.uploads) > 1 else {}),
            },
        )
        return Response(
            StudyCreatedSerializer(study).data,
            status=status.HTTP_201_CREATED if study.from_cache else status.HTTP_202_ACCEPTED,
        )


class StudyDetailView(APIView):
    @extend_schema(responses=StudyDetailSerializer, summary="A study with its findings")
    def get(self, request: Request, study_id: uuid.UUID) -> Response:
        study = study_get(user=request.user, study_id=study_id)
        audit_study_view(request, study)
        study_mark_read(study=study)
        prior = study_prior_get(user=request.user, study=study)
        return Response(StudyDetailSerializer(study, context={"prior": prior}).data)


class StudyImageView(APIView):
    @extend_schema(responses=PNG_RESPONSE, summary="The study's key image as an 8-bit greyscale PNG")
    def get(self, request: Request, study_id: uuid.UUID) -> FileResponse:
        study = study_get(user=request.user, study_id=study_id)
        return image_png_answer(request, study.key_image)


class StudyHeatmapView(APIView):
    @extend_schema(
        responses=PNG_RESPONSE,
        summary="Grad-CAM heatmap of one finding on the study's key image, RGBA at the radiograph's size",
    )
    def get(self, request: Request, study_id: uuid.UUID, label: str) -> FileResponse:
        study = study_get(user=request.user, study_id=study_id)
        return image_heatmap_answer(request, study.key_image, label)


class StudyImagePositionView(APIView):
    @extend_schema(responses=PNG_RESPONSE, summary="One image of a study as an 8-bit greyscale PNG")
    def get(self, request: Request, study_id: uuid.UUID, position: int) -> FileResponse:
        study = study_get(user=request.user, study_id=study_id)
        return image_png_answer(request, study_image_get(study=study, position=position))


class StudyImageHeatmapView(APIView):
    @extend_schema(
        responses=PNG_RESPONSE,
        summary="Grad-CAM heatmap of one finding on one image of a study, RGBA at the image's size",
    )
    def get(self, request: Request, study_id: uuid.UUID, position: int, label: str) -> FileResponse:
        study = study_get(user=request.user, study_id=study_id)
        return image_heatmap_answer(request, study_image_get(study=study, position=position), label)


# The study-level routes answer for the study's key image with the per-image answers below.


def image_png_answer(request: Request, image: StudyImage) -> FileResponse:
    audit_record(
        action=AuditAction.IMAGE_DOWNLOAD,
        request=request,
        target_type="study",
        target_id=image.study_id,
        detail={"position": image.position},
    )
    return private_png(image.display_file.open("rb"))


def image_heatmap_answer(request: Request, image: StudyImage, label: str) -> FileResponse:
    finding = image_finding_get(image=image, label=label)
    audit_record(
        action=AuditAction.HEATMAP_DOWNLOAD,
        request=request,
        target_type="study",
        target_id=image.study_id,
        detail={"position": image.position, "label": finding.label},
    )
    return private_png(ContentFile(image_heatmap_png(image=image, label=finding.label)))


class StudySegmentationView(APIView):
    @extend_schema(
        responses=SegmentationOutlinesSerializer,
        summary="Outlines of the anatomy the segmentation found, in radiograph pixels",
    )
    def get(self, request: Request, study_id: uuid.UUID) -> Response:
        study = study_get(user=request.user, study_id=study_id)
        run = analyser_run_get(study=study, kind=SEGMENTATION)
        return Response(SegmentationOutlinesSerializer(segmentation_outlines(study=study, run=run)).data)


def audit_study_view(request: Request, study: Study) -> None:
    # The web app refetches a study at each change of its status: one view per user and study per window.
    key = f"audit:study-view:{request.user.pk}:{study.id}"
    if cache.add(key, True, timeout=settings.CXR_AUDIT_VIEW_WINDOW_SECONDS):
        audit_record(action=AuditAction.STUDY_VIEW, request=request, target_type="study", target_id=study.id)


def private_png(handle: File) -> FileResponse:
    response = FileResponse(handle, content_type="image/png")
    # Patient images: the browser may keep them, shared caches and proxies may not.
    response["Cache-Control"] = "private, max-age=3600"
    return response


class JsonErrorsNegotiation(BaseContentNegotiation):
    """The event stream asks for text/event-stream; its errors are still JSON in the one error shape."""

    def select_parser(self, request: Request, parsers: list[BaseParser]) -> BaseParser:
        return parsers[0]

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


class StudyEventsView(APIView):
    """An async view: the stream waits on the event loop, holding no worker thread (config/asgi.py).

    DRF views are synchronous, so ``dispatch`` is rewritten here: authentication, permissions and
    the error shape are DRF's own, run in a thread before the stream starts.
    """

    http_method_names = ["get"]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonErrorsNegotiation

    @extend_schema(
        summary="Live status of my studies (all studies for an admin), as server-sent events",
        description=(
            "text/event-stream: a sequence of events, each sent as an `event:` line and a `data:` "
            "line; the schema describes one event (StudyStreamEvent), its `data` being the JSON that "
            "the `data:` line holds. First `event: ready` with `{}` once subscribed (refetch then, "
            "to miss nothing), then one `event: study` whose data is a StudyEvent each time a "
            "study changes status, and "
            "`: heartbeat` comments while quiet. The stream ends when the access token expires, or "
            "when the user is deactivated, changes role or has a new password: reconnect with a "
            "fresh token. GET only (405 otherwise)."
        ),
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="StudyStreamEvent",
                    serializers={"ready": ReadyEventSerializer, "study": StudyChangeEventSerializer},
                    resource_type_field_name="event",
                ),
                description="One event of the stream",
            ),
        },
    )
    async def get(self, request: Request) -> StreamingHttpResponse:
        until = float(request.auth["exp"]) if request.auth is not None else 0.0
        response = StreamingHttpResponse(
            study_event_stream(user=request.user, until=until), content_type="text/event-stream"
        )
        response["Cache-Control"] = "no-cache"
        # nginx reads this header and passes the stream on unbuffered.
        response["X-Accel-Buffering"] = "no"
        return response

    async def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:  # type: ignore[override]
        self.args, self.kwargs = args, kwargs
        drf_request = self.initialize_request(request, *args, **kwargs)
        self.request = drf_request
        self.headers = self.default_response_headers
        try:
            await sync_to_async(self.authenticate_and_release_database)(drf_request, *args, **kwargs)
            if drf_request.method != "GET":
                # As DRF's own dispatch: 405 with Allow: GET, in the error shape.
                self.http_method_not_allowed(drf_request)
            response: HttpResponseBase = await self.get(drf_request)
        except Exception as error:
            response = self.handle_exception(error)
        return self.finalize_response(drf_request, response, *args, **kwargs)

    def authenticate_and_release_database(self, request: Request, *args: Any, **kwargs: Any) -> None:
        try:
            self.initial(request, *args, **kwargs)
        finally:
            # The stream may stay open for minutes and needs no database: give the connection back
            # now rather than hold one per open stream.
            connections.close_all()
