"""DICOM results of a finished study: TID 1500 SR, heatmap Secondary Captures, Encapsulated PDF.

Each object is checked by dciodvfy (Debian's dicom3tools), and highdicom reads the SR back to the
study's findings.
"""

import shutil
import subprocess
from pathlib import Path

import highdicom as hd
import pydicom
import pytest

from pacs.codes import FINDING_CODES, NOT_A_DIAGNOSIS, UNTRAINED_WARNING
from pacs.exports import study_dicom_exports
from pacs.origin import stored_origin
from studies.analysis import studies_analyze
from studies.models import Study
from tests.conftest import CXR_DATA_DIR

pytestmark = pytest.mark.django_db

DCIODVFY = shutil.which("dciodvfy")


def write_exports(study: Study, folder: Path) -> list[Path]:
    paths = []
    for dataset in study_dicom_exports(study=study, origin=stored_origin(study=study)):
        path = folder / f"{dataset.SOPInstanceUID}.dcm"
        dataset.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def dciodvfy_errors(path: Path) -> list[str]:
    if DCIODVFY is None:
        pytest.fail("dciodvfy is missing: run `make system-packages` (Debian's dicom3tools)")
    checked = subprocess.run([DCIODVFY, str(path)], capture_output=True, text=True, timeout=60)
    return [line for line in (checked.stdout + checked.stderr).splitlines() if line.startswith("Error")]


@pytest.fixture
def analysed_dicom_study(clinician, client_for, upload):
    response = upload(
        client_for(clinician), (CXR_DATA_DIR / "dicom" / "siim-sample.dcm").read_bytes(), "x.dcm"
    )
    assert response.status_code == 202, response.content
    studies_analyze(study_id=response.json()["id"], claimant="test")
    return Study.objects.get(pk=response.json()["id"])


def test_every_dicom_result_of_a_png_study_passes_dciodvfy_and_files_into_one_study(analysed_study, tmp_path):
    paths = write_exports(analysed_study, tmp_path)

    datasets = [pydicom.dcmread(path) for path in paths]
    kinds = [dataset.SOPClassUID.name for dataset in datasets]
    assert kinds.count("Comprehensive 3D SR Storage") == 1
    assert kinds.count("Secondary Capture Image Storage") == analysed_study.findings.count()
    assert kinds.count("Encapsulated PDF Storage") == 1
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


def test_highdicom_reads_the_sr_back_to_the_studys_findings_model_and_statement(analysed_study, tmp_path):
    sr_path = next(
        path for path in write_exports(analysed_study, tmp_path) if pydicom.dcmread(path).Modality == "SR"
    )

    sr = hd.sr.srread(sr_path)
    groups = sr.content.get_image_measurement_groups()
    expected = {finding.label: finding for finding in analysed_study.findings.all()}
    assert len(groups) == len(expected)
    card = analysed_study.model_card
    for group in groups:
        label = group.tracking_identifier
        finding = expected[label]
        assert group.finding_type.value == FINDING_CODES[label].value
        values = {measurement.name.value: measurement.value for measurement in group.get_measurements()}
        assert values["probability"] == pytest.approx(finding.probability)
        assert values["threshold"] == pytest.approx(finding.threshold)
        assert values["calibrated-score"] == pytest.approx(finding.calibrated_score)
        (evaluation,) = group.get_qualitative_evaluations()
        assert evaluation.value.meaning == ("Positive" if finding.positive else "Negative")
        algorithm = [(item.name.meaning, item.value) for item in group[0].ContentSequence]
        assert ("Algorithm Name", card["name"]) in algorithm
        assert ("Algorithm Version", card["version"]) in algorithm
        assert ("Algorithm Parameters", f"weights_sha256={card['weights_sha256']}") in algorithm
        assert ("Algorithm Parameters", "trained=false") in algorithm
    (comment,) = (item.value for item in sr.content[0].ContentSequence if item.name.meaning == "Comment")
    assert NOT_A_DIAGNOSIS in comment and UNTRAINED_WARNING in comment
