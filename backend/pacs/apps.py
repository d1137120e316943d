from django.apps import AppConfig


class PacsConfig(AppConfig):
    name = "pacs"
    verbose_name = "Hospital integration (DICOM and FHIR)"

    def ready(self) -> None:
        from pacs.dispatch import file_results_enqueue, signed_report_refile
        from reports.events import report_signed
        from studies.events import study_finished

        study_finished.connect(file_results_enqueue, dispatch_uid="pacs-file-finished-study")
        report_signed.connect(signed_report_refile, dispatch_uid="pacs-refile-signed-report")
