"""A real PACS round trip: Debian's Orthanc, configured as README's "Connecting to your PACS" says.

Orthanc (with its DICOMweb plugin) runs on free loopback ports with backend/pacs/orthanc/orthanc.json
and forward-to-cxr.lua; storescu sends it the sample DICOMs, DICOMs made from the NIH PNGs and an
enhanced CT series; Orthanc forwards them to the service's listener; once analysed, the service files
its SR, Secondary Captures, SEG and PDF (a CT study: its SR) back into Orthanc, where QIDO-RS finds
them in the same studies; dciodvfy, pixelmed's SR validator and highdicom check them as Orthanc
stored them.
"""

import contextlib
import io
import json
import shutil
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connections
from pydicom.uid import generate_uid

from ml.ct.synthetic import enhanced_ct
from pacs import filing
from pacs.codes import CT_INVOLVEMENT, NOT_A_DIAGNOSIS, PROBABILITY, THRESHOLD, UNTRAINED_WARNING
from pacs.listener import start_listener
from pacs.models import FilingStatus, ReceivedImage
from pacs.tasks import file_results
from studies.models import Study, StudyImage
from tests.conftest import NIH_DIR, analyse_here
from tests.factories import UserFactory
from tests.test_pacs_dicom_in import DICOM_DIR, dcmtk, free_port, png_as_dicom
from tests.test_pacs_dicom_out import (
    assert_identifies,
    dciodvfy_errors,
    measurement_values,
    sr_template_errors,
)

ORTHANC_DIR = settings.BACKEND_DIR / "pacs" / "orthanc"
SERVICE_AE_TITLE = "CXR_DS"
WAIT_SECONDS = 90


def http_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read() or b"null")


def wait_for(what: str, check, seconds: float = WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out waiting for {what}")
        time.sleep(0.5)


@pytest.fixture
def service(settings, transactional_db):
    """The service's listener on a free port, with its service account, key and PACS to file into."""
    account = UserFactory(username="pacs-service")
    settings.CXR_DICOM_SERVICE_ACCOUNT = account.username
    # The shipped orthanc.json's AE title, which the service lets send by default.
    settings.CXR_DICOM_SENDERS = ["ORTHANC"]
    settings.CXR_ORIGIN_KEY = Fernet.generate_key().decode()
    port = free_port()
    server = start_listener(host="127.0.0.1", port=port, ae_title=SERVICE_AE_TITLE, block=False)
    yield port
    server.shutdown()


@pytest.fixture
def orthanc(service, settings, tmp_path):
    """Orthanc on free ports, configured from the shipped orthanc.json to forward to the service."""
    executable = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
    if not Path(executable).exists():
        pytest.fail("Orthanc is missing: run `make system-packages` (Debian's orthanc, orthanc-dicomweb)")
    http_port, dicom_port = free_port(), free_port()
    config = json.loads((ORTHANC_DIR / "orthanc.json").read_text())
    config.update(
        HttpPort=http_port,
        DicomPort=dicom_port,
        StorageDirectory=str(tmp_path / "orthanc-db"),
        IndexDirectory=str(tmp_path / "orthanc-db"),
        LuaScripts=[str(ORTHANC_DIR / "forward-to-cxr.lua")],
        DicomModalities={"cxr": [SERVICE_AE_TITLE, "127.0.0.1", service]},
    )
    config_path = tmp_path / "orthanc.json"
    config_path.write_text(json.dumps(config))
    settings.CXR_PACS_DESTINATION = f"{config['DicomAet']}@127.0.0.1:{dicom_port}"
    log = (tmp_path / "orthanc.log").open("w")
    process = subprocess.Popen([executable, str(config_path)], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{http_port}"
    try:
        wait_for("Orthanc to answer", lambda: process.poll() is None and try_json(f"{base}/system"), 60)
        yield {"base": base, "dicom_port": dicom_port, "aet": config["DicomAet"]}
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def try_json(url: str) -> object:
    try:
        return http_json(url)
    except OSError:
        return None


def series_modalities(base: str, study_uid: str) -> list[str]:
    series = try_json(f"{base}/dicom-web/studies/{study_uid}/series") or []
    return [item["00080060"]["Value"][0] for item in series]


def test_orthanc_forwards_radiographs_and_receives_the_sr_heatmaps_seg_and_pdf_in_the_same_studies(
    orthanc, tmp_path
):
    shared_study = generate_uid()
    files = [DICOM_DIR / "siim-sample.dcm"]
    for index, png in enumerate(sorted(NIH_DIR.glob("*.png"))[:2]):
        path = tmp_path / f"nih-{index}.dcm"
        path.write_bytes(png_as_dicom(png, study_uid=shared_study, patient_id="PID0042", accession="ACC0042"))
        files.append(path)
    study_uids = {pydicom.dcmread(path, stop_before_pixels=True).StudyInstanceUID for path in files}

    sent = subprocess.run(
        [
            dcmtk("storescu"),
            "--propose-jpeg8",
            "-aec",
            orthanc["aet"],
            "127.0.0.1",
            str(orthanc["dicom_port"]),
        ]
        + [str(path) for path in files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert sent.returncode == 0, sent.stderr

    # The two images of the shared study join one study: one study per Study Instance UID.
    wait_for(
        "Orthanc to forward every image",
        lambda: Study.objects.count() == len(study_uids) and StudyImage.objects.count() == len(files),
    )
    for study in Study.objects.all():
        analyse_here(study.id)
        file_results.apply(args=[str(study.id)])
    statuses = {received.filing_status: received.message for received in ReceivedImage.objects.all()}
    assert set(statuses) == {FilingStatus.SENT}, statuses

    for study_uid in study_uids:
        modalities = wait_for(
            f"results in study {study_uid}",
            lambda uid=study_uid: (
                (found := series_modalities(orthanc["base"], uid)) and {"SR", "DOC"} <= set(found) and found
            ),
        )
        assert {"SR", "OT", "SEG", "DOC"} <= set(modalities)

    sr_paths, seg_paths = [], []
    for instance in http_json(f"{orthanc['base']}/instances"):
        path = tmp_path / f"{instance}.dcm"
        with urllib.request.urlopen(f"{orthanc['base']}/instances/{instance}/file", timeout=30) as answer:
            path.write_bytes(answer.read())
        dataset = pydicom.dcmread(path, stop_before_pixels=True)
        ours = dataset.get("Manufacturer", "").startswith("CXR")
        if ours and dataset.Modality in ("SR", "OT", "SEG", "DOC"):
            assert dciodvfy_errors(path) == [], dataset.SOPClassUID.name
            {"SR": sr_paths, "SEG": seg_paths}.get(dataset.Modality, []).append(path)
    assert len(sr_paths) == len(study_uids)
    # Each SR as Orthanc keeps it: the study's findings with their probabilities, and the screener's
    # result (the untrained segmentation measures no ratio), filed into the study it was made for.
    probabilities_by_sr = set()
    for path in sr_paths:
        assert sr_template_errors(path) == [], path
        content = hd.sr.srread(path).content
        groups = [*content.get_planar_roi_measurement_groups(), *content.get_image_measurement_groups()]
        probabilities_by_sr.add(
            tuple(
                sorted(
                    (group.tracking_identifier, round(measurement_values(group)[PROBABILITY.value], 6))
                    for group in groups
                )
            )
        )
    expected = set()
    for study in Study.objects.all():
        screener = study.analyser_runs.get(kind="screener").result["probability"]
        findings = [(finding.label, round(finding.probability, 6)) for finding in study.findings.all()]
        expected.add(tuple(sorted([*findings, ("screener", round(screener, 6))])))
    assert probabilities_by_sr == expected

    # Each SEG references the radiograph it segments (a study's key image: its first), in its study.
    key_images = {}
    for path in files:
        original = pydicom.dcmread(path, stop_before_pixels=True)
        key_images.setdefault(original.StudyInstanceUID, original.SOPInstanceUID)
    referenced = {}
    for path in seg_paths:
        seg = hd.seg.segread(path)
        (instance,) = seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence
        referenced[seg.StudyInstanceUID] = instance.ReferencedSOPInstanceUID
    assert referenced == key_images


def orthanc_results(base: str) -> list[pydicom.Dataset]:
    """Every object of the service's that Orthanc holds, as Orthanc stored it."""
    results = []
    for instance in http_json(f"{base}/instances"):
        with urllib.request.urlopen(f"{base}/instances/{instance}/file", timeout=30) as answer:
            dataset = pydicom.dcmread(io.BytesIO(answer.read()))
        if dataset.get("Manufacturer", "").startswith("CXR"):
            results.append(dataset)
    return results


def sr_probabilities(report: pydicom.Dataset) -> dict[str, float]:
    """Each measurement group's probability, by tracking identifier: the findings (with or without an
    image region) and the screener's."""
    content = hd.sr.srread(io.BytesIO(dicom_bytes(report))).content
    groups = [*content.get_planar_roi_measurement_groups(), *content.get_image_measurement_groups()]
    return {group.tracking_identifier: measurement_values(group)[PROBABILITY.value] for group in groups}


def dicom_bytes(dataset: pydicom.Dataset) -> bytes:
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    return buffer.getvalue()


@contextlib.contextmanager
def filing_held_before_sending(study_id: object, monkeypatch):
    """A filing task in a thread, held just before it sends (its objects made, the filing claimed)
    until the block ends; then it sends to the real PACS and the block waits for it to end."""
    sending, send = threading.Event(), threading.Event()
    real_c_store = filing.c_store

    def c_store_once_released(destination, datasets):
        sending.set()
        assert send.wait(WAIT_SECONDS)
        return real_c_store(destination, datasets)

    def file_in_a_thread() -> None:
        try:
            file_results.apply(args=[str(study_id)])
        finally:
            connections.close_all()

    monkeypatch.setattr(filing, "c_store", c_store_once_released)
    held = threading.Thread(target=file_in_a_thread)
    held.start()
    try:
        assert sending.wait(WAIT_SECONDS)
        yield
    finally:
        send.set()
        held.join(WAIT_SECONDS)
        monkeypatch.setattr(filing, "c_store", real_c_store)


@contextlib.contextmanager
def second_image_while_filing(orthanc: dict, tmp_path: Path, monkeypatch):
    """A study's first image sent through Orthanc and analysed, then its second image sent while
    the first results' filing is held before sending; the filing sends when the block ends."""
    shared_study = generate_uid()
    first, second = tmp_path / "first.dcm", tmp_path / "second.dcm"
    for path, png in zip((first, second), sorted(NIH_DIR.glob("*.png"))[:2], strict=True):
        path.write_bytes(png_as_dicom(png, study_uid=shared_study, patient_id="PID0077", accession="ACC0077"))
    send_to_orthanc(orthanc, first)
    study = wait_for("the first image", lambda: Study.objects.first())
    analyse_here(study.id)
    with filing_held_before_sending(study.id, monkeypatch):
        send_to_orthanc(orthanc, second)
        wait_for("the second image to join", lambda: StudyImage.objects.filter(study=study).count() == 2)
        yield study


def send_to_orthanc(orthanc: dict, path: Path) -> None:
    address = ["127.0.0.1", str(orthanc["dicom_port"])]
    sent = subprocess.run(
        # JPEG proposed too, for the real DICOMs stored JPEG-compressed (siim-sample.dcm).
        [dcmtk("storescu"), "--propose-jpeg8", "-aec", orthanc["aet"], *address, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert sent.returncode == 0, sent.stderr


def assert_orthanc_holds_exactly_the_final_results(orthanc: dict, study: Study, client_for, tmp_path: Path):
    """Orthanc holds the filing's last set and nothing else of the service's; its one SR carries the
    API's final probabilities and passes dciodvfy. Returns the SR."""
    received = ReceivedImage.objects.get(study=study)
    in_orthanc = orthanc_results(orthanc["base"])
    assert {str(dataset.SOPInstanceUID) for dataset in in_orthanc} == {
        item["sop_instance_uid"] for item in received.filed_objects
    }
    (report,) = [dataset for dataset in in_orthanc if dataset.Modality == "SR"]
    path = tmp_path / "final-sr.dcm"
    path.write_bytes(dicom_bytes(report))
    assert dciodvfy_errors(path) == []
    answer = client_for(study.owner).get(f"/api/studies/{study.id}/")
    assert answer.status_code == 200
    api_probabilities = {finding["label"]: finding["probability"] for finding in answer.json()["findings"]}
    api_probabilities["screener"] = answer.json()["screener"]["probability"]
    assert sr_probabilities(report) == pytest.approx(api_probabilities)
    return report


def test_an_image_arriving_while_a_study_is_filed_ends_with_only_the_final_results_in_orthanc(
    orthanc, tmp_path, settings, monkeypatch, client_for
):
    """The second image of a study reaches the service while its one-image results are being sent:
    the filing ends waiting, not sent; the re-analysis files new objects whose SR names the first SR
    as its predecessor, the first set is deleted through Orthanc's REST API, and Orthanc then holds
    exactly the final set, with the API's final probabilities."""
    settings.CXR_PACS_REST_URL = orthanc["base"]
    with second_image_while_filing(orthanc, tmp_path, monkeypatch) as study:
        pass
    received = ReceivedImage.objects.get(study=study)
    assert received.filing_status == FilingStatus.WAITING, received.message
    first_set = {item["sop_instance_uid"] for item in received.filed_objects}
    first_sr = next(item for item in received.filed_objects if item["modality"] == "SR")

    analyse_here(study.id)
    file_results.apply(args=[str(study.id)])
    received.refresh_from_db()
    assert received.filing_status == FilingStatus.SENT, received.message
    assert not {item["sop_instance_uid"] for item in received.filed_objects} & first_set

    report = assert_orthanc_holds_exactly_the_final_results(orthanc, study, client_for, tmp_path)
    (predecessor,) = report.PredecessorDocumentsSequence
    (series,) = predecessor.ReferencedSeriesSequence
    assert series.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == first_sr["sop_instance_uid"]


def test_a_second_filing_while_the_first_sends_leaves_it_to_the_first_which_files_the_newer_results(
    orthanc, tmp_path, settings, monkeypatch, client_for
):
    """Newer results are stored, and their filing task runs, while the older results are being
    sent: the second task leaves the filing to the one sending, which then sends the newer results
    rather than ending "sent" over the older ones. Superseded objects stay (no CXR_PACS_REST_URL),
    so Orthanc holds both sets and the newer SR names the older as its predecessor."""
    settings.CXR_PACS_REST_URL = ""
    with second_image_while_filing(orthanc, tmp_path, monkeypatch) as study:
        analyse_here(study.id)
        # The finished analysis's own filing task, while the first still holds the filing.
        file_results.apply(args=[str(study.id)])
        assert ReceivedImage.objects.get(study=study).filing_status == FilingStatus.SENDING
    received = ReceivedImage.objects.get(study=study)
    assert received.filing_status == FilingStatus.WAITING, received.message
    assert "Newer results" in received.message

    # The task the first filing handed to the queue.
    file_results.apply(args=[str(study.id)])
    received.refresh_from_db()
    assert received.filing_status == FilingStatus.SENT, received.message
    study.refresh_from_db()
    assert received.filed_results == study.finished_at.isoformat()
    reports = [dataset for dataset in orthanc_results(orthanc["base"]) if dataset.Modality == "SR"]
    assert len(reports) == 2
    (newer,) = [report for report in reports if "PredecessorDocumentsSequence" in report]
    (older,) = [report for report in reports if report is not newer]
    referenced = newer.PredecessorDocumentsSequence[0].ReferencedSeriesSequence[0].ReferencedSOPSequence[0]
    assert referenced.ReferencedSOPInstanceUID == older.SOPInstanceUID
    current = {item["sop_instance_uid"] for item in received.filed_objects}
    assert str(newer.SOPInstanceUID) in current and str(older.SOPInstanceUID) not in current
    final = {finding.label: finding.probability for finding in study.findings.all()}
    assert {
        label: probability for label, probability in sr_probabilities(newer).items() if label in final
    } == (pytest.approx(final))


def test_a_ct_series_sent_through_orthanc_comes_back_as_an_sr_of_its_patient_level_result(
    orthanc, tmp_path, client_for
):
    """A multi-frame (enhanced) CT series, forwarded by Orthanc, is a CT study; its result goes back
    into the patient's study as a TID 1500 SR (the CT analyser's group: lung involvement with the
    patient's probability, the threshold and whether it reached it, on the series), its only object."""
    frames = np.random.default_rng(7).integers(0, 1500, (4, 32, 32))
    series = pydicom.dcmread(
        io.BytesIO(enhanced_ct(frames, zs=[0.0, 2.5, 5.0, 7.5], slopes=[1.0] * 4, intercepts=[-1024.0] * 4))
    )
    series.StudyInstanceUID, series.SeriesInstanceUID, series.SOPInstanceUID = (
        generate_uid() for _ in range(3)
    )
    series.PatientID, series.PatientName, series.AccessionNumber = "PID0099", "Ct^Patient", "ACC0099"
    path = tmp_path / "enhanced-ct.dcm"
    series.save_as(path, enforce_file_format=True)

    send_to_orthanc(orthanc, path)
    study = wait_for("Orthanc to forward the series", lambda: Study.objects.first())
    assert study.key_image.kind == "ct"
    analyse_here(study.id)
    file_results.apply(args=[str(study.id)])
    received = ReceivedImage.objects.get(study=study)
    assert received.filing_status == FilingStatus.SENT, received.message

    wait_for("the SR in Orthanc", lambda: "SR" in series_modalities(orthanc["base"], series.StudyInstanceUID))
    (report,) = orthanc_results(orthanc["base"])
    assert report.Modality == "SR"
    assert (report.StudyInstanceUID, report.PatientID, str(report.PatientName), report.AccessionNumber) == (
        series.StudyInstanceUID,
        "PID0099",
        "Ct^Patient",
        "ACC0099",
    )
    sr_path = tmp_path / "ct-sr.dcm"
    sr_path.write_bytes(dicom_bytes(report))
    assert dciodvfy_errors(sr_path) == []
    assert sr_template_errors(sr_path) == []

    api = client_for(study.owner).get(f"/api/studies/{study.id}/").json()["ct"]
    content = hd.sr.srread(sr_path).content
    assert content.get_planar_roi_measurement_groups() == []
    (group,) = content.get_image_measurement_groups()
    assert group.tracking_identifier == "ct"
    assert group.finding_type.value == CT_INVOLVEMENT.value
    assert measurement_values(group) == {
        PROBABILITY.value: pytest.approx(api["patient_probability"]),
        THRESHOLD.value: pytest.approx(api["threshold"]),
    }
    (evaluation,) = group.get_qualitative_evaluations()
    assert evaluation.value.meaning == ("Positive" if api["positive"] else "Negative")
    assert_identifies(group, api["analyser"])
    (image,) = group.source_images
    assert image.referenced_sop_instance_uid == series.SOPInstanceUID
    comments = [
        item.TextValue
        for item in report.ContentSequence
        if item.ConceptNameCodeSequence[0].CodeMeaning == "Comment"
    ]
    assert comments == [NOT_A_DIAGNOSIS, f"{api['analyser']['name']}: {UNTRAINED_WARNING}"]
