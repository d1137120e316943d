"""What a hospital's radiologist sees: the results the service filed into a real Orthanc, opened in
OHIF Viewer in Chromium from Orthanc's DICOMweb (tests.ohif_viewer).

Not checked yet: that OHIF draws the SR's regions. It does for an SR whose every measurement group
has a region, but not reliably for the service's, where the findings whose heatmap is flat carry
none (README, PACS: what OHIF shows).
"""

import pydicom
import pytest

from pacs.models import FilingStatus, ReceivedImage
from pacs.tasks import file_results
from studies.models import Study
from tests.conftest import analyse_here
from tests.ohif_viewer import ohif_viewer
from tests.test_pacs_dicom_in import DICOM_DIR
from tests.test_pacs_orthanc import orthanc, send_to_orthanc, series_modalities, service, wait_for  # noqa: F401 (fixtures)

pytestmark = pytest.mark.worker


def test_ohif_viewer_lists_every_filed_result_beside_the_radiograph_it_reads_from_orthanc(orthanc, tmp_path):  # noqa: F811
    sent = DICOM_DIR / "siim-sample.dcm"
    send_to_orthanc(orthanc, sent)
    study = wait_for("Orthanc to forward the radiograph", lambda: Study.objects.first())
    analyse_here(study.id)
    file_results.apply(args=[str(study.id)])
    assert ReceivedImage.objects.get(study=study).filing_status == FilingStatus.SENT
    # Filed into the radiograph's own study, which the viewer opens by its UID.
    study_uid = pydicom.dcmread(sent, stop_before_pixels=True).StudyInstanceUID
    wait_for(
        "the results in Orthanc", lambda: {"SR", "DOC"} <= set(series_modalities(orthanc["base"], study_uid))
    )

    with ohif_viewer(tmp_path, dicomweb=f"{orthanc['base']}/dicom-web") as viewer:
        shown = viewer.view_study(study_uid, screenshot=tmp_path / "ohif.png")

    # The radiograph and every object filed beside it, each its own series in the viewer's study:
    # the SR, the heatmaps' Secondary Captures (OT), the PDF (DOC) and the anatomy's SEG.
    modalities = {text.split("\n", 1)[0] for text in shown["series"]}
    assert modalities == {"CR", "SR", "OT", "DOC", "SEG"}, shown["series"]
    heatmaps = next(text for text in shown["series"] if text.startswith("OT"))
    assert heatmaps.endswith(f"\n{study.findings.count()}"), heatmaps
