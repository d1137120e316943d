"""Writes on the clinician's report: save the draft, sign it, amend a signed version.

Each write names the version it was made on (``version``: 0 before the first save): a write on a
version that is no longer the latest, or that was signed meanwhile, is refused with 409 and
changes nothing, so that two people never overwrite each other. The study's row is locked while a
version is written, so that two writes of one study happen one after the other.
"""

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from common.errors import DomainError
from reports.draft import draft_text, report_draft_sentences
from reports.events import report_signed_announce
from reports.models import (
    IMPRESSION_MAX_LENGTH,
    REASON_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    ClinicianReport,
    ReportStatus,
)
from reports.selectors import report_latest
from reports.validation import clean_text
from studies.ct import refuse_ct_export
from studies.models import Study, StudyStatus


def report_study_check(*, study: Study, user: User) -> None:
    """A report is of a finished radiograph study, written by its clinician or an admin."""
    refuse_ct_export(study, "clinician's report")
    if study.status != StudyStatus.DONE:
        raise DomainError(
            "A report can be written once the analysis is done.", extra={"status": study.status}
        )
    if not (user.is_staff or study.owner_id == user.pk):
        raise DomainError(
            "Only the study's clinician or an administrator may write or sign its report.", status_code=403
        )


def report_draft(*, study: Study, user: User) -> ClinicianReport:
    """The report to show: the latest version, or (none saved yet) an unsaved draft, version 0."""
    latest = report_latest(study=study)
    if latest is not None:
        return latest
    sentences = report_draft_sentences(study)
    return ClinicianReport(
        study=study, version=0, text=draft_text(sentences), sentences=sentences, edited_by=user
    )


def locked_latest(*, study: Study, user: User, version: int) -> ClinicianReport | None:
    """Lock the study, check who writes, and that ``version`` is the latest (409 if not)."""
    Study.objects.select_for_update().filter(pk=study.pk).first()
    report_study_check(study=study, user=user)
    latest = report_latest(study=study)
    current = latest.version if latest is not None else 0
    if version != current:
        raise DomainError(
            f"The report has changed since version {version} was read: version {current} is the latest.",
            status_code=409,
            extra={"version": version, "latest_version": current},
        )
    return latest


def refuse_signed(report: ClinicianReport | None, doing: str) -> None:
    if report is not None and report.status == ReportStatus.SIGNED:
        raise DomainError(
            f"Version {report.version} is signed and final: it cannot be {doing}; amend it instead.",
            status_code=409,
            extra={"version": report.version, "status": report.status},
        )


@transaction.atomic
def report_save(*, study: Study, user: User, version: int, text: str, impression: str) -> ClinicianReport:
    """Save the draft's text and impression (the first save stores version 1)."""
    latest = locked_latest(study=study, user=user, version=version)
    refuse_signed(latest, "edited")
    text = clean_text(text, field="text", max_length=TEXT_MAX_LENGTH)
    impression = clean_text(impression, field="impression", max_length=IMPRESSION_MAX_LENGTH)
    if latest is None:
        latest = ClinicianReport(study=study, version=1, sentences=report_draft_sentences(study))
    latest.text, latest.impression, latest.edited_by = text, impression, user
    latest.save()
    return latest


@transaction.atomic
def report_sign(*, study: Study, user: User, version: int) -> ClinicianReport:
    """Sign the saved draft ``version``: it becomes final, and the integrations hear of it."""
    if version < 1:
        raise DomainError("Save the draft before signing it.", extra={"field": "version", "version": version})
    latest = locked_latest(study=study, user=user, version=version)
    assert latest is not None  # version >= 1 is the latest, so it exists.
    refuse_signed(latest, "signed again")
    if not latest.impression:
        raise DomainError(
            "A report is signed with an impression: write one first.", extra={"field": "impression"}
        )
    latest.status, latest.signed_by, latest.signed_at = ReportStatus.SIGNED, user, timezone.now()
    latest.save()
    report_signed_announce(study.id)
    return latest


@transaction.atomic
def report_amend(*, study: Study, user: User, version: int, reason: str) -> ClinicianReport:
    """Open an amendment of the signed ``version``: a new draft version copied from it."""
    latest = locked_latest(study=study, user=user, version=version)
    if latest is None or latest.status != ReportStatus.SIGNED:
        raise DomainError(
            "Only a signed report is amended; a draft is edited.",
            status_code=409,
            extra={"version": version, "status": latest.status if latest else None},
        )
    reason = clean_text(reason, field="reason", max_length=REASON_MAX_LENGTH)
    if not reason:
        raise DomainError("An amendment says why the signed report changes.", extra={"field": "reason"})
    return ClinicianReport.objects.create(
        study=study,
        version=latest.version + 1,
        text=latest.text,
        impression=latest.impression,
        sentences=latest.sentences,
        amendment_reason=reason,
        edited_by=user,
    )
