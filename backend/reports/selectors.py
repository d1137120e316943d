"""Reads on clinicians' reports: a study's versions, its latest, and its last signed (the final one)."""

from django.db.models import QuerySet

from reports.models import ClinicianReport, ReportStatus
from studies.models import Study


def report_versions(*, study: Study) -> QuerySet[ClinicianReport]:
    return (
        ClinicianReport.objects.filter(study=study)
        .select_related("edited_by", "signed_by")
        .order_by("version")
    )


def report_latest(*, study: Study) -> ClinicianReport | None:
    return report_versions(study=study).last()


def report_signed(*, study_id: object) -> ClinicianReport | None:
    """The study's final report: its last signed version (an amendment being drafted is not final)."""
    return (
        ClinicianReport.objects.filter(study_id=study_id, status=ReportStatus.SIGNED)
        .select_related("signed_by")
        .order_by("-version")
        .first()
    )
