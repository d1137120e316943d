from django.urls import path

from feedback.views import StudyFeedbackDetailView, StudyFeedbackListView

# Mounted under /api/studies/<study_id>/feedback/.
urlpatterns = [
    path("", StudyFeedbackListView.as_view(), name="study-feedback-list"),
    path("<str:label>/", StudyFeedbackDetailView.as_view(), name="study-feedback-detail"),
]
