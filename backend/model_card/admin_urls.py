from django.urls import include, path

from model_card.views import ReanalyseView, ShadowComparisonView

# Mounted under /api/admin/models/: the deployments' own routes, and beside them the two that read
# or re-queue studies (above studies, where deployments cannot reach).
urlpatterns = [
    path("comparison/", ShadowComparisonView.as_view(), name="deployments-comparison"),
    path("reanalyse/", ReanalyseView.as_view(), name="deployments-reanalyse"),
    path("", include("deployments.urls")),
]
