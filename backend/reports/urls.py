from django.urls import path

from reports.signing_views import (
    ClinicianReportAmendView,
    ClinicianReportSignView,
    ClinicianReportVersionsView,
    ClinicianReportVersionView,
    ClinicianReportView,
)
from reports.views import StudyReportView

# Mounted under /api/studies/<study_id>/report/.
urlpatterns = [
    path("", StudyReportView.as_view(), name="study-report"),
    path("clinician/", ClinicianReportView.as_view(), name="clinician-report"),
    path("clinician/sign/", ClinicianReportSignView.as_view(), name="clinician-report-sign"),
    path("clinician/amend/", ClinicianReportAmendView.as_view(), name="clinician-report-amend"),
    path("clinician/versions/", ClinicianReportVersionsView.as_view(), name="clinician-report-versions"),
    path(
        "clinician/versions/<int:version>/",
        ClinicianReportVersionView.as_view(),
        name="clinician-report-version",
    ),
]
