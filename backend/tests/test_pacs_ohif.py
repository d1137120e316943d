"""What a hospital's radiologist sees: the results the service filed into a real Orthanc, opened in
OHIF Viewer in Chromium from Orthanc's DICOMweb (tests.ohif_viewer).

OHIF draws the SR's groups over the radiograph: each finding's region (its Grad-CAM region, or the
whole radiograph where its map is flat), the screener's (the whole radiograph) and the
cardiothoracic ratio's two measurement lines, each labelled with its values. Not checked: the SEG's
segments, which OHIF 3.13 does not load on a radiograph without a patient coordinate system
(README, PACS: what OHIF shows).
"""

import io

import highdicom as hd
import pydicom
import pytest

from pacs.codes import PROBABILITY
from pacs.models import FilingStatus, ReceivedImage
from pacs.tasks import file_results
from studies.models import Study
from tests.conftest import analyse_here
from tests.factories import store_measured_ratio
from tests.ohif_viewer import ohif_viewer
from tests.test_pacs_dicom_in import DICOM_DIR
from tests.test_pacs_dicom_out import measurement_values
from tests.test_pacs_orthanc import (  # noqa: F401 (fixtures)
    dicom_bytes,
    orthanc,
    orthanc_results,
    send_to_orthanc,
    series_modalities,
    service,
    wait_for,
)

pytestmark = pytest.mark.worker


def test_ohif_viewer_draws_the_srs_regions_and_ratio_lines_with_their_values_beside_every_filed_series(
    orthanc,  # noqa: F811
    tmp_path,
):
    sent = DICOM_DIR / "siim-sample.dcm"
    send_to_orthanc(orthanc, sent)
    study = wait_for("Orthanc to forward the radiograph", lambda: Study.objects.first())
    analyse_here(study.id)
    ratio = store_measured_ratio(study)
    file_results.apply(args=[str(study.id)])
    assert ReceivedImage.objects.get(study=study).filing_status == FilingStatus.SENT
    # Filed into the radiograph's own study, which the viewer opens by its UID.
    study_uid = pydicom.dcmread(sent, stop_before_pixels=True).StudyInstanceUID
    wait_for(
        "the results in Orthanc", lambda: {"SR", "DOC"} <= set(series_modalities(orthanc["base"], study_uid))
    )
    # The SR as Orthanc keeps it, which the viewer reads.
    (report,) = [dataset for dataset in orthanc_results(orthanc["base"]) if dataset.Modality == "SR"]
    content = hd.sr.srread(io.BytesIO(dicom_bytes(report))).content
    regions = {group.tracking_uid: group for group in content.get_planar_roi_measurement_groups()}
    (measured,) = content.get_image_measurement_groups()

    with ohif_viewer(tmp_path, dicomweb=f"{orthanc['base']}/dicom-web") as viewer:
        shown = viewer.view_study(
            study_uid, report_series_uid=report.SeriesInstanceUID, screenshot=tmp_path / "ohif.png"
        )

    # The radiograph and every object filed beside it, each its own series in the viewer's study:
    # the SR, the heatmaps' Secondary Captures (OT), the PDF (DOC) and the anatomy's SEG.
    modalities = {text.split("\n", 1)[0] for text in shown["series"]}
    assert modalities == {"CR", "SR", "OT", "DOC", "SEG"}, shown["series"]
    heatmaps = next(text for text in shown["series"] if text.startswith("OT"))
    assert heatmaps.endswith(f"\n{study.findings.count()}"), heatmaps

    # Every group of the SR drawn over the radiograph: the 14 findings', the screener's, the ratio's.
    drawn = {annotation["uid"]: annotation for annotation in shown["annotations"]}
    assert set(drawn) == {*regions, measured.tracking_uid}, shown["messages"]
    assert len(regions) == study.findings.count() + 1
    for uid, group in regions.items():
        # The group's region as its outline (every vertex of it), labelled with its probability.
        (shape,) = drawn[uid]["shapes"]
        assert shape["kind"] == "polyline" and len(shape["points"]) == 2 * len(group.roi.value)
        probability = measurement_values(group)[PROBABILITY.value]
        assert f"Probability: {probability:.2f} 1" in drawn[uid]["texts"], drawn[uid]["texts"]
    # The ratio's heart and thorax lines: level, and as long as each other as the widths they measure.
    lines = drawn[measured.tracking_uid]["shapes"]
    assert [line["kind"] for line in lines] == ["line", "line"]
    assert all(y1 == pytest.approx(y2) for _, y1, _, y2 in (line["points"] for line in lines))
    heart, thorax = sorted(abs(x2 - x1) for x1, _, x2, _ in (line["points"] for line in lines))
    assert thorax / heart == pytest.approx(ratio.thorax_line.width / ratio.heart_line.width, rel=0.02)
    assert f"Diameter: {ratio.heart_line.width:.2f} {{pixels}}" in drawn[measured.tracking_uid]["texts"]
