from django.apps import AppConfig


class PacsConfig(AppConfig):
    name = "pacs"
    verbose_name = "Hospital integration (DICOM and FHIR)"

    def ready(self) -> None:
        from pacs.dispatch import file_results_enqueue
        from studies.events import study_finished

        study_finished.connect(file_results_enqueue, dispatch_uid="pacs-file-finished-study")
