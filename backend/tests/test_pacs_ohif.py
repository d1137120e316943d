"""What a hospital's radiologist sees: the results the service filed into a real Orthanc, opened in
OHIF Viewer in Chromium from Orthanc's DICOMweb (tests.ohif_viewer)."""

import subprocess

import pydicom
import pytest

from pacs.models import FilingStatus, ReceivedImage
from pacs.tasks import file_results
from studies.analysis import studies_analyze
from studies.models import Study
from tests.ohif_viewer import ohif_viewer
from tests.test_pacs_dicom_in import DICOM_DIR, dcmtk
from tests.test_pacs_orthanc import orthanc, series_modalities, service, wait_for  # noqa: F401 (fixtures)

pytestmark = pytest.mark.worker


def test_ohif_viewer_shows_the_filed_report_s_regions_and_values_over_the_radiograph(orthanc, tmp_path):  # noqa: F811
    sent = DICOM_DIR / "siim-sample.dcm"
    stored = subprocess.run(
        [
            dcmtk("storescu"),
            "--propose-jpeg8",
            "-aec",
            orthanc["aet"],
            "127.0.0.1",
            str(orthanc["dicom_port"]),
            str(sent),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert stored.returncode == 0, stored.stderr
    study = wait_for("Orthanc to forward the radiograph", lambda: Study.objects.first())
    studies_analyze(study_id=study.id, claimant="test")
    file_results.apply(args=[str(study.id)])
    assert ReceivedImage.objects.get(study=study).filing_status == FilingStatus.SENT
    # Filed into the radiograph's own study, which the viewer opens by its UID.
    study_uid = pydicom.dcmread(sent, stop_before_pixels=True).StudyInstanceUID
    wait_for(
        "the results in Orthanc", lambda: {"SR", "DOC"} <= set(series_modalities(orthanc["base"], study_uid))
    )

    with ohif_viewer(tmp_path, dicomweb=f"{orthanc['base']}/dicom-web") as viewer:
        shown = viewer.view_study(study_uid, screenshot=tmp_path / "ohif.png")

    modalities = {text.split("\n", 1)[0] for text in shown["series"]}
    assert {"CR", "SR", "DOC"} <= modalities, shown["series"]
    assert shown["annotations"], f"OHIF drew nothing of the report over the radiograph: {shown}"
    findings = study.findings.all()
    drawn = " ".join(shown["texts"])
    assert any(f"{finding.probability:.2f}" in drawn for finding in findings), shown["texts"]
