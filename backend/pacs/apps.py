from django.apps import AppConfig


class PacsConfig(AppConfig):
    name = "pacs"
    verbose_name = "Hospital integration (DICOM and FHIR)"
