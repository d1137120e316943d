from django.urls import path

from pacs.views import DicomNodesView, StowView, StudyFhirView, StudyPacsView

fhir_urlpatterns = [path("", StudyFhirView.as_view(), name="study-fhir")]
dicomweb_urlpatterns = [path("studies/", StowView.as_view(), name="dicomweb-stow")]
study_pacs_urlpatterns = [path("", StudyPacsView.as_view(), name="study-pacs")]
pacs_urlpatterns = [path("nodes/", DicomNodesView.as_view(), name="pacs-nodes")]
