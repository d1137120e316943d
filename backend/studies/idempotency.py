"""Idempotent uploads: a retry sent with the same Idempotency-Key gets the first answer again.

A client whose answer to an upload was lost (a timeout, a dropped connection) cannot tell whether
the study was made; sending the upload again with the same `Idempotency-Key` header makes that safe.
The first request with a key stores its answer (status and body) with the key, in the same
transaction as the study it made; a retry by the same user with the same key and the same files gets
that answer again, marked `Idempotent-Replayed: true`, and stores nothing. Retries that arrive while
the first is still being answered wait for it on the key's row (PostgreSQL's unique index), so
concurrent retries make one study.

- The same key with different files (or on the other upload route) is refused with 422: the key
  names one request, and answering another with its answer would hide that the files were not taken.
- Keys are per user, 1 to 128 visible ASCII characters (400 otherwise), kept
  CXR_IDEMPOTENCY_KEY_HOURS; after that a key is new again.
- Answers that say "try again" (429 throttled, 5xx a dependency down) are not kept: nothing was
  stored, and the retry is taken afresh.
"""

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import DomainError
from common.exception_handler import api_exception_handler
from studies.models import UploadAnswer

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 128
KEY_PATTERN = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}")
IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "Makes a retry safe: the same key (1 to 128 visible ASCII characters, per user, kept "
        "CXR_IDEMPOTENCY_KEY_HOURS) with the same content gets the first answer again and stores "
        "nothing; with other content, 422."
    ),
    pattern=KEY_PATTERN.pattern,
)


def idempotency_key(request: Request) -> str | None:
    value = request.headers.get(HEADER)
    if value is None:
        return None
    if not KEY_PATTERN.fullmatch(value):
        raise DomainError(
            f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} visible ASCII characters.",
            extra={"header": HEADER, "max_length": MAX_KEY_LENGTH},
        )
    return value


def fingerprint_of(*, route: str, parts: Iterable[Iterable[bytes]]) -> str:
    """A hash of the request as far as its answer depends on it: the route and each part sent
    (a part given as its chunks), so that a retry that differs only in its multipart boundary
    matches."""
    digest = hashlib.sha256(route.encode())
    for part in parts:
        part_digest = hashlib.sha256()
        for chunk in part:
            part_digest.update(chunk)
        digest.update(part_digest.digest())
    return digest.hexdigest()


def uploaded_files_fingerprint(*, route: str, files: MultiValueDict, patient_key: str = "") -> str:
    """The fingerprint of a multipart upload: each file's field, name and content, in order, and the
    patient it was sent for (as its keyed hash, studies.patients: never the reference typed)."""

    def parts() -> Iterator[Iterable[bytes]]:
        if patient_key:
            yield [b"patient\0", patient_key.encode()]
        for field, uploads in files.lists():
            for upload in uploads:
                yield [field.encode(), b"\0", (upload.name or "").encode()]
                yield upload.chunks()

    try:
        return fingerprint_of(route=route, parts=parts())
    finally:
        for _field, uploads in files.lists():
            for upload in uploads:
                upload.seek(0)


def kept(status_code: int) -> bool:
    return status_code < 500 and status_code != 429


def idempotent_answer(
    *, view: APIView, request: Request, fingerprint: Callable[[], str], answer: Callable[[], Response]
) -> Response:
    """``answer()``, or with an Idempotency-Key already used by this user, the answer it got then."""
    key = idempotency_key(request)
    if key is None:
        return answer()
    sent = fingerprint()
    with transaction.atomic():
        UploadAnswer.objects.filter(
            created_at__lt=timezone.now() - timedelta(hours=settings.CXR_IDEMPOTENCY_KEY_HOURS)
        ).delete()
        # Waits, on the unique index, for a request with the same key that is still being answered.
        record, created = UploadAnswer.objects.get_or_create(
            owner=request.user,
            key=key,
            defaults={"fingerprint": sent, "status_code": 0, "body": "", "content_type": ""},
        )
        if not created:
            return replayed(record, fingerprint=sent)
        try:
            with transaction.atomic():
                response = answer()
        except Exception as error:
            response = api_exception_handler(error, {"view": view, "request": request})
            if response is None or not kept(response.status_code):
                # Rolls the key back with everything else: the retry is taken afresh.
                raise
        if not kept(response.status_code):
            transaction.set_rollback(True)
            return response
        record.status_code = response.status_code
        record.body = json.dumps(response.data, cls=DjangoJSONEncoder)
        record.content_type = response.content_type or "application/json"
        record.save(update_fields=["status_code", "body", "content_type"])
    return response


def replayed(record: UploadAnswer, *, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise DomainError(
            f"This {HEADER} was used for another request (other files, or another route): use a new "
            "key for a new upload.",
            status_code=422,
            extra={"header": HEADER},
        )
    return Response(
        json.loads(record.body),
        status=record.status_code,
        content_type=record.content_type,
        headers={"Idempotent-Replayed": "true"},
    )
