from django.urls import path

from monitoring.views import (
    AcceptanceRunDetailView,
    AcceptanceRunListView,
    AcceptanceRunProfileView,
    DriftView,
)

# Mounted under /api/monitoring/.
urlpatterns = [
    path("acceptance-runs/", AcceptanceRunListView.as_view(), name="acceptance-run-list"),
    path("acceptance-runs/<int:run_id>/", AcceptanceRunDetailView.as_view(), name="acceptance-run-detail"),
    path(
        "acceptance-runs/<int:run_id>/threshold-profile/",
        AcceptanceRunProfileView.as_view(),
        name="acceptance-run-profile",
    ),
    path("drift/", DriftView.as_view(), name="drift"),
]
