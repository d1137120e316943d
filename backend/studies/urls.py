from django.urls import path

from studies.ct_views import StudyCTSliceView, StudyCTStripView
from studies.explanation_views import ExplanationDetailView, ExplanationImageView, ExplanationListView
from studies.views import (
    StudyDetailView,
    StudyEventsView,
    StudyHeatmapView,
    StudyImageHeatmapView,
    StudyImagePositionView,
    StudyImageView,
    StudyListCreateView,
    StudySegmentationView,
)

urlpatterns = [
    path("", StudyListCreateView.as_view(), name="study-list"),
    path("events/", StudyEventsView.as_view(), name="study-events"),
    path("<uuid:study_id>/", StudyDetailView.as_view(), name="study-detail"),
    path("<uuid:study_id>/image/", StudyImageView.as_view(), name="study-image"),
    path("<uuid:study_id>/heatmaps/<str:label>/", StudyHeatmapView.as_view(), name="study-heatmap"),
    path("<uuid:study_id>/segmentation/", StudySegmentationView.as_view(), name="study-segmentation"),
    path("<uuid:study_id>/ct-strip/", StudyCTStripView.as_view(), name="study-ct-strip"),
    path("<uuid:study_id>/ct-slices/<int:index>/", StudyCTSliceView.as_view(), name="study-ct-slice"),
    path(
        "<uuid:study_id>/images/<int:position>/",
        StudyImagePositionView.as_view(),
        name="study-image-position",
    ),
    path(
        "<uuid:study_id>/images/<int:position>/heatmaps/<str:label>/",
        StudyImageHeatmapView.as_view(),
        name="study-image-heatmap",
    ),
    path(
        "<uuid:study_id>/findings/<str:label>/explanations/",
        ExplanationListView.as_view(),
        name="study-explanations",
    ),
    path(
        "<uuid:study_id>/findings/<str:label>/explanations/<str:method>/",
        ExplanationDetailView.as_view(),
        name="study-explanation",
    ),
    path(
        "<uuid:study_id>/findings/<str:label>/explanations/<str:method>/image/",
        ExplanationImageView.as_view(),
        name="study-explanation-image",
    ),
]
