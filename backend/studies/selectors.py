"""Reads on studies. A clinician reads only their own studies; an admin reads all."""

import uuid

from django.db.models import QuerySet

from accounts.models import User
from common.errors import NotFoundError
from studies.models import Finding, Study


def study_list(*, user: User, status: str | None = None) -> QuerySet[Study]:
    studies = Study.objects.all() if user.is_staff else Study.objects.filter(owner=user)
    if status:
        studies = studies.filter(status=status)
    return studies.order_by("-created_at")


def study_get(*, user: User, study_id: uuid.UUID) -> Study:
    # Someone else's study answers exactly like a missing one, so ids cannot be probed.
    study = study_list(user=user).prefetch_related("findings").filter(pk=study_id).first()
    if study is None:
        raise NotFoundError("Study not found.", extra={"id": str(study_id)})
    return study


def finding_get(*, study: Study, label: str) -> Finding:
    finding = study.findings.filter(label=label).first()
    if finding is None:
        raise NotFoundError(f"Study has no finding {label!r}.", extra={"label": label})
    return finding
