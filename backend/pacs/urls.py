from django.urls import path

from pacs.views import StudyFhirView

fhir_urlpatterns = [path("", StudyFhirView.as_view(), name="study-fhir")]
