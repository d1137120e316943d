"""DICOM results of a finished study: TID 1500 SR, heatmap Secondary Captures, SEG, Encapsulated PDF.

Each object is checked by dciodvfy (Debian's dicom3tools), the SR also by pixelmed's SR validator
(Debian's libpixelmed-java) against TID 1500, and highdicom reads the SR back to what the API says
of the study: its findings with their Grad-CAM regions, the screener, the cardiothoracic ratio; the
SEG's masks are the segmentation's, on the radiograph they reference.
"""

import shutil
import subprocess
from pathlib import Path

import cv2
import highdicom as hd
import numpy as np
import pydicom
import pytest

from ml.segmentation.analyser import SEGMENTATION
from pacs.codes import (
    CALIBRATED_SCORE,
    CARDIOTHORACIC_RATIO,
    FINDING_CODES,
    LOCAL_DESIGNATOR,
    NOT_A_DIAGNOSIS,
    PROBABILITY,
    STRUCTURE_CODES,
    THRESHOLD,
    UNTRAINED_WARNING,
)
from pacs.exports import study_dicom_exports
from pacs.origin import stored_origin
from studies.heatmaps import image_heatmap_map
from studies.models import Study
from studies.segmentation import study_segmentation
from tests.conftest import CXR_DATA_DIR, analyse_here
from tests.factories import store_measured_ratio

pytestmark = pytest.mark.django_db

DCIODVFY = shutil.which("dciodvfy")
PIXELMED_JAR = Path("/usr/share/java/pixelmed.jar")
# The validator's XSLT passes the JDK's default limits on XPath expressions.
JAVA_XPATH_UNLIMITED = (
    "-Djdk.xml.xpathExprOpLimit=0",
    "-Djdk.xml.xpathExprGrpLimit=0",
    "-Djdk.xml.xpathTotalOpLimit=0",
)


def write_exports(study: Study, folder: Path) -> list[Path]:
    paths = []
    for dataset in study_dicom_exports(study=study, origin=stored_origin(study=study)):
        path = folder / f"{dataset.SOPInstanceUID}.dcm"
        dataset.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def dciodvfy_lines(path: Path) -> list[str]:
    if DCIODVFY is None:
        pytest.fail("dciodvfy is missing: run `make system-packages` (Debian's dicom3tools)")
    checked = subprocess.run([DCIODVFY, str(path)], capture_output=True, text=True, timeout=60)
    return (checked.stdout + checked.stderr).splitlines()


def dciodvfy_errors(path: Path) -> list[str]:
    return [line for line in dciodvfy_lines(path) if line.startswith("Error")]


def sr_template_errors(path: Path) -> list[str]:
    """What pixelmed's DicomSRValidator finds wrong in an SR against its IOD and root template."""
    java = shutil.which("java")
    if java is None or not PIXELMED_JAR.is_file():
        pytest.fail(
            "pixelmed's SR validator is missing: run `make system-packages` (Debian's libpixelmed-java)"
        )
    checked = subprocess.run(
        [
            java,
            *JAVA_XPATH_UNLIMITED,
            "-cp",
            str(PIXELMED_JAR),
            "com.pixelmed.validate.DicomSRValidator",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = checked.stdout + checked.stderr
    assert "Found Root Template TID_1500" in output and "IOD validation complete" in output, output
    return [line for line in output.splitlines() if line.startswith("Error")]


def sr_of(study: Study, folder: Path) -> Path:
    return next(path for path in write_exports(study, folder) if pydicom.dcmread(path).Modality == "SR")


def measurement_values(group) -> dict[str, float]:
    return {measurement.name.value: measurement.value for measurement in group.get_measurements()}


def algorithm_of(group) -> list[tuple[str, str]]:
    """The group's text items: its tracking identifier and its algorithm's (TID 4019) name, version
    and parameters."""
    return [
        (item.ConceptNameCodeSequence[0].CodeMeaning, item.TextValue)
        for item in group[0].ContentSequence
        if item.ValueType == "TEXT"
    ]


def assert_identifies(group, card: dict) -> None:
    algorithm = algorithm_of(group)
    assert ("Algorithm Name", card["name"]) in algorithm
    assert ("Algorithm Version", card["version"]) in algorithm
    assert ("Algorithm Parameters", f"weights_sha256={card['weights_sha256'] or 'none'}") in algorithm
    assert ("Algorithm Parameters", f"trained={'true' if card['trained'] else 'false'}") in algorithm


def coded_values(dataset: pydicom.Dataset) -> list[tuple[str, str]]:
    """Every (designator, value) of a code anywhere in the dataset."""
    codes = []

    def visit(item: pydicom.Dataset, _element) -> None:
        if "CodingSchemeDesignator" in item and "CodeValue" in item:
            codes.append((item.CodingSchemeDesignator, item.CodeValue))

    def walk(item: pydicom.Dataset) -> None:
        visit(item, None)
        for element in item:
            if element.VR == "SQ":
                for child in element.value:
                    walk(child)

    walk(dataset)
    return codes


@pytest.fixture
def analysed_dicom_study(clinician, client_for, upload):
    response = upload(
        client_for(clinician), (CXR_DATA_DIR / "dicom" / "siim-sample.dcm").read_bytes(), "x.dcm"
    )
    assert response.status_code == 202, response.content
    analyse_here(response.json()["id"])
    return Study.objects.get(pk=response.json()["id"])


def test_every_dicom_result_of_a_png_study_passes_dciodvfy_and_files_into_one_study(analysed_study, tmp_path):
    paths = write_exports(analysed_study, tmp_path)

    datasets = [pydicom.dcmread(path) for path in paths]
    kinds = [dataset.SOPClassUID.name for dataset in datasets]
    assert kinds.count("Comprehensive 3D SR Storage") == 1
    assert kinds.count("Secondary Capture Image Storage") == analysed_study.findings.count()
    assert kinds.count("Encapsulated PDF Storage") == 1
    assert kinds.count("Segmentation Storage") == 1
    origin = stored_origin(study=analysed_study)
    assert {dataset.StudyInstanceUID for dataset in datasets} == {origin.study_instance_uid}
    assert {path.name: dciodvfy_errors(path) for path in paths} == {path.name: [] for path in paths}, [
        pydicom.dcmread(path).SOPClassUID.name for path in paths
    ]


def test_dicom_results_of_a_dicom_study_pass_dciodvfy_and_reference_its_radiograph(
    analysed_dicom_study, tmp_path
):
    paths = write_exports(analysed_dicom_study, tmp_path)

    origin = stored_origin(study=analysed_dicom_study)
    for path in paths:
        assert dciodvfy_errors(path) == [], path
        dataset = pydicom.dcmread(path)
        assert dataset.StudyInstanceUID == origin.study_instance_uid
        references = dataset.get("SourceImageSequence") or dataset.get("SourceInstanceSequence")
        if references is not None:
            assert references[0].ReferencedSOPInstanceUID == origin.sop_instance_uid


def test_the_sr_passes_pixelmeds_tid_1500_validator_and_dciodvfy_with_private_codes_only_where_none_exist(
    analysed_study, tmp_path
):
    store_measured_ratio(analysed_study)
    sr_path = sr_of(analysed_study, tmp_path)

    assert sr_template_errors(sr_path) == []
    assert dciodvfy_errors(sr_path) == []
    private = {
        value
        for designator, value in coded_values(pydicom.dcmread(sr_path))
        if designator == LOCAL_DESIGNATOR
    }
    assert private == {CALIBRATED_SCORE.value, CARDIOTHORACIC_RATIO.value}


def test_highdicom_reads_the_sr_back_to_the_apis_findings_screener_and_ratio_with_each_models_identity(
    analysed_study, clinician, client_for, tmp_path
):
    ratio = store_measured_ratio(analysed_study)
    api = client_for(clinician).get(f"/api/studies/{analysed_study.id}/").json()
    sr = hd.sr.srread(sr_of(analysed_study, tmp_path))

    findings = {finding["label"]: finding for finding in api["findings"]}
    regions = {group.tracking_identifier: group for group in sr.content.get_planar_roi_measurement_groups()}
    groups = {group.tracking_identifier: group for group in sr.content.get_image_measurement_groups()}
    assert regions and not set(regions) & set(groups)
    groups.update(regions)
    assert set(groups) == {*findings, "screener", "cardiothoracic-ratio"} and len(findings) == 14
    for label, finding in findings.items():
        group = groups[label]
        assert group.finding_type.value == FINDING_CODES[label].value
        values = measurement_values(group)
        assert values[PROBABILITY.value] == pytest.approx(finding["probability"])
        assert values[THRESHOLD.value] == pytest.approx(finding["threshold"])
        assert values[CALIBRATED_SCORE.value] == pytest.approx(finding["calibrated_score"])
        (evaluation,) = group.get_qualitative_evaluations()
        assert evaluation.value.meaning == ("Positive" if finding["positive"] else "Negative")
        assert_identifies(group, api["model"])
    # Every finding's and the screener's group has a region (a viewer needs one to place a group):
    # the finding's Grad-CAM region, or the whole radiograph with no method.
    assert set(regions) == {*findings, "screener"}
    for group in regions.values():
        assert group.method is None or group.method.meaning == "Visual explanation"

    screener = groups["screener"]
    assert screener.finding_type.meaning == "Abnormal"
    assert measurement_values(screener) == {
        PROBABILITY.value: pytest.approx(api["screener"]["probability"]),
        THRESHOLD.value: pytest.approx(api["screener"]["threshold"]),
    }
    (evaluation,) = screener.get_qualitative_evaluations()
    assert evaluation.value.meaning == ("Positive" if api["screener"]["likely_abnormal"] else "Negative")
    assert_identifies(screener, api["screener"]["analyser"])

    measured = groups["cardiothoracic-ratio"]
    assert_identifies(measured, api["segmentation"]["analyser"])
    ratio_api = api["segmentation"]["cardiothoracic_ratio"]
    (ratio_item,) = measured.get_measurements(
        name=hd.sr.CodedConcept(CARDIOTHORACIC_RATIO.value, LOCAL_DESIGNATOR, CARDIOTHORACIC_RATIO.meaning)
    )
    assert ratio_item.value == pytest.approx(ratio_api["ratio"]) and ratio_item.unit.value == "{ratio}"
    widths = {
        item.finding_sites[0].value.meaning: item
        for item in measured.get_measurements()
        if item.name.meaning == "Diameter"
    }
    for site, line, ends in (
        ("Heart", ratio.heart_line, ratio_api["heart_line"]),
        ("Chest cavity", ratio.thorax_line, ratio_api["thorax_line"]),
    ):
        (coordinates,) = widths[site].referenced_coordinates
        assert coordinates.graphic_type == hd.sr.GraphicTypeValues.POLYLINE
        (x_start, y), (x_end, _) = ends
        # From the left edge of the first pixel to the right edge of the last, through the row's middle.
        assert coordinates.value.tolist() == [[x_start, y + 0.5], [x_end + 1, y + 0.5]]
        assert widths[site].value == line.width == x_end - x_start + 1


def test_each_findings_sr_region_is_a_closed_outline_within_the_radiograph_over_its_heatmaps_hottest_part(
    analysed_study, tmp_path
):
    sr = hd.sr.srread(sr_of(analysed_study, tmp_path))
    image = analysed_study.key_image
    origin = stored_origin(study=analysed_study)

    planar = sr.content.get_planar_roi_measurement_groups()
    groups = [group for group in planar if group.method is not None]
    # An untrained network's Grad-CAM is flat for some findings: those point nowhere, and their
    # region, as the screener's, is the whole radiograph.
    maps = {
        finding.label: image_heatmap_map(image=image, label=finding.label)
        for finding in analysed_study.findings.all()
    }
    pointing = {label for label, heatmap in maps.items() if np.ptp(heatmap) >= 1e-3}
    assert {group.tracking_identifier for group in groups} == pointing and pointing
    whole = [[0, 0], [image.width, 0], [image.width, image.height], [0, image.height], [0, 0]]
    for group in planar:
        if group.method is None:
            assert group.roi.value.tolist() == whole, group.tracking_identifier
    assert {group.tracking_identifier for group in planar if group.method is None} == {
        *(set(maps) - pointing),
        "screener",
    }
    for group in groups:
        region = group.roi
        assert region.graphic_type == hd.sr.GraphicTypeValues.POLYLINE
        assert (
            region.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
            == origin.sop_instance_uid
        )
        outline = region.value
        assert len(outline) >= 4 and outline[0].tolist() == outline[-1].tolist()
        assert (outline[:, 0] >= 0).all() and (outline[:, 0] <= image.width).all()
        assert (outline[:, 1] >= 0).all() and (outline[:, 1] <= image.height).all()
        heatmap = maps[group.tracking_identifier]
        row, column = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
        assert cv2.pointPolygonTest(outline.astype(np.float32), (column + 0.5, row + 0.5), False) >= 0
        inside = np.zeros(heatmap.shape, np.uint8)
        cv2.fillPoly(inside, [np.round(outline - 0.5).astype(np.int32)], 1)
        assert 0 < inside.sum() < inside.size
        assert heatmap[inside == 1].mean() > heatmap[inside == 0].mean() + 0.1, group.tracking_identifier


def test_every_dicom_result_says_not_a_diagnosis_and_names_each_untrained_model(analysed_study, tmp_path):
    datasets = [pydicom.dcmread(path) for path in write_exports(analysed_study, tmp_path)]
    cards = [analysed_study.model_card, *(run.card for run in analysed_study.analyser_runs.all())]
    untrained = [f"{card['name']}: {UNTRAINED_WARNING}" for card in cards if not card["trained"]]
    assert len(untrained) == 3

    sr = next(dataset for dataset in datasets if dataset.Modality == "SR")
    comments = [
        item.TextValue
        for item in sr.ContentSequence
        if item.ConceptNameCodeSequence[0].CodeMeaning == "Comment"
    ]
    assert comments == [NOT_A_DIAGNOSIS, *untrained]
    for capture in (dataset for dataset in datasets if dataset.Modality == "OT"):
        assert NOT_A_DIAGNOSIS in capture.ImageComments
        assert all(statement in capture.ImageComments for statement in untrained)


@pytest.mark.parametrize("kind", ["png", "dicom"])
def test_the_seg_holds_each_structures_mask_on_the_radiograph_it_references_with_the_models_identity(
    kind, request, clinician, client_for, tmp_path
):
    study = request.getfixturevalue("analysed_study" if kind == "png" else "analysed_dicom_study")
    (path,) = (path for path in write_exports(study, tmp_path) if pydicom.dcmread(path).Modality == "SEG")
    api = client_for(clinician).get(f"/api/studies/{study.id}/").json()["segmentation"]

    assert dciodvfy_errors(path) == []
    seg = hd.seg.segread(path)
    origin = stored_origin(study=study)
    (series,) = seg.ReferencedSeriesSequence
    assert series.SeriesInstanceUID == origin.series_instance_uid
    assert series.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == origin.sop_instance_uid
    assert seg.StudyInstanceUID == origin.study_instance_uid
    assert (seg.Rows, seg.Columns) == (study.key_image.height, study.key_image.width)
    masks = study_segmentation(run=study.analyser_runs.get(kind=SEGMENTATION))
    assert [segment.SegmentLabel for segment in seg.SegmentSequence] == api["structures"]
    untrained = f"{api['analyser']['name']}: {UNTRAINED_WARNING}"
    for number, segment in enumerate(seg.SegmentSequence, start=1):
        name = segment.SegmentLabel
        structure, laterality = STRUCTURE_CODES[name]
        property_type = segment.SegmentedPropertyTypeCodeSequence[0]
        assert property_type.CodeValue == structure.value
        modifiers = property_type.get("SegmentedPropertyTypeModifierCodeSequence", [])
        assert [modifier.CodeValue for modifier in modifiers] == ([laterality.value] if laterality else [])
        algorithm = segment.SegmentationAlgorithmIdentificationSequence[0]
        assert (algorithm.AlgorithmName, algorithm.AlgorithmVersion) == (
            api["analyser"]["name"],
            api["analyser"]["version"],
        )
        assert NOT_A_DIAGNOSIS in segment.SegmentDescription and untrained in segment.SegmentDescription
        mask = seg.get_pixels_by_source_instance(
            [origin.sop_instance_uid], segment_numbers=[number], ignore_spatial_locations=True
        )[0, :, :, 0]
        assert np.array_equal(mask.astype(bool), masks.mask(name)), name
