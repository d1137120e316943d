from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.urls import auth_urlpatterns, user_urlpatterns
from common.views import api_not_found, spa_index
from health.views import HealthView, LivenessView
from observability.views import metrics_view
from pacs.urls import dicomweb_urlpatterns, fhir_urlpatterns, pacs_urlpatterns, study_pacs_urlpatterns

api_urlpatterns = [
    path("auth/", include(auth_urlpatterns)),
    path("users/", include(user_urlpatterns)),
    path("studies/<uuid:study_id>/feedback/", include("feedback.urls")),
    path("studies/<uuid:study_id>/report/", include("reports.urls")),
    path("studies/<uuid:study_id>/fhir/", include(fhir_urlpatterns)),
    path("studies/<uuid:study_id>/pacs/", include(study_pacs_urlpatterns)),
    path("studies/", include("studies.urls")),
    path("audit/", include("audit.urls")),
    path("dicomweb/", include(dicomweb_urlpatterns)),
    path("pacs/", include(pacs_urlpatterns)),
    path("model/", include("model_card.urls")),
    path("admin/models/", include("model_card.admin_urls")),
    path("monitoring/", include("monitoring.urls")),
    path("health/", HealthView.as_view(), name="health"),
    path("health/live/", LivenessView.as_view(), name="health-live"),
    path("metrics/", metrics_view, name="metrics"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves the docs page's script from a URL, not inline, as the CSP requires.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    # Any character, line breaks included: a path with an encoded newline must get the JSON 404 too.
    re_path(r"^(?P<path>(?s:.*))$", api_not_found),
]

urlpatterns = [
    path("api/", include(api_urlpatterns)),
    path("admin/", admin.site.urls),
    # Everything else is a route of the single-page app.
    re_path(r"^(?!api/|admin/|static/).*$", spa_index, name="spa"),
]

# Errors outside the API's views answer JSON in the API's error shape, never an HTML page.
handler500 = "common.views.server_error"
