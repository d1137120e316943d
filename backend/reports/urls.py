from django.urls import path

from reports.views import StudyReportView

# Mounted under /api/studies/<study_id>/report/.
urlpatterns = [path("", StudyReportView.as_view(), name="study-report")]
