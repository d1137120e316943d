from django.urls import path

from deployments.views import (
    DeploymentsView,
    ProfileActivateView,
    PromoteView,
    RollbackView,
    ServerWeightsView,
    ShadowView,
    ThresholdProfilesView,
)

# Mounted under /api/admin/models/ (the shadow comparison and re-analysis beside them: model_card).
urlpatterns = [
    path("", DeploymentsView.as_view(), name="deployments"),
    path("weights/", ServerWeightsView.as_view(), name="deployments-weights"),
    path("profiles/", ThresholdProfilesView.as_view(), name="deployments-profiles"),
    path("active/profile/", ProfileActivateView.as_view(), name="deployments-activate-profile"),
    path("shadow/", ShadowView.as_view(), name="deployments-shadow"),
    path("promote/", PromoteView.as_view(), name="deployments-promote"),
    path("rollback/", RollbackView.as_view(), name="deployments-rollback"),
]
