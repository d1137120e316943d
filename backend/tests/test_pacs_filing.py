"""Filing results back into the PACS without leaking: dcmtk's storescp stands in for the PACS.

A radiograph with identifiers arrives through the listener, is analysed, and its SR, heatmap
Secondary Captures and PDF reach the PACS in the patient's original study; the identifiers are
then searched for in the database, media storage, logs, API answers, exports and the audit log.
While the PACS is down the task retries, then says why the results were not sent.
"""

import logging
import subprocess
import time
from pathlib import Path

import pydicom
import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from pydicom.uid import generate_uid

from pacs.models import FilingStatus, ReceivedImage, ReceivedProtocol
from pacs.services import pacs_received, received_image_store
from pacs.tasks import file_results
from studies.analysis import studies_analyze
from studies.models import Study
from tests import test_pacs_dicom_in
from tests.conftest import NIH_DIR
from tests.factories import UserFactory
from tests.test_pacs_dicom_in import dcmtk, free_port, png_as_dicom, storescu
from tests.test_pacs_dicom_out import dciodvfy_errors

# The listener on a free loopback port, receiving for a service account (fixtures of test_pacs_dicom_in).
listener = test_pacs_dicom_in.listener
service_account = test_pacs_dicom_in.service_account

PACS_AE_TITLE = "TEST_PACS"
PATIENT_ID = "PID7F3A9LEAK"
ACCESSION = "ACC5C21ELEAK"


@pytest.fixture
def origin_key(settings):
    settings.CXR_ORIGIN_KEY = Fernet.generate_key().decode()


@pytest.fixture
def identified_radiograph(tmp_path) -> tuple[Path, dict[str, str]]:
    study_uid = generate_uid()
    path = tmp_path / "identified.dcm"
    path.write_bytes(
        png_as_dicom(
            sorted(NIH_DIR.glob("*.png"))[0], study_uid=study_uid, patient_id=PATIENT_ID, accession=ACCESSION
        )
    )
    dataset = pydicom.dcmread(path)
    identifiers = {
        "PatientName": str(dataset.PatientName),
        "PatientBirthDate": dataset.PatientBirthDate,
        "PatientID": PATIENT_ID,
        "AccessionNumber": ACCESSION,
        "StudyInstanceUID": study_uid,
        "SeriesInstanceUID": dataset.SeriesInstanceUID,
        "SOPInstanceUID": dataset.SOPInstanceUID,
    }
    return path, identifiers


def start_pacs(port: int, folder: Path) -> subprocess.Popen:
    """dcmtk's storescp on a loopback port, writing what it receives to folder; waits until it answers."""
    folder.mkdir(exist_ok=True)
    command = [dcmtk("storescp"), "-aet", PACS_AE_TITLE, "+xa", "-od", str(folder), str(port)]
    pacs = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while subprocess.run(
        [dcmtk("echoscu"), "-aec", PACS_AE_TITLE, "127.0.0.1", str(port)], capture_output=True, timeout=30
    ).returncode:
        if time.monotonic() > deadline or pacs.poll() is not None:
            pacs.kill()
            pytest.fail("storescp did not start")
        time.sleep(0.2)
    return pacs


@pytest.fixture
def pacs(settings, tmp_path):
    port = free_port()
    settings.CXR_PACS_DESTINATION = f"{PACS_AE_TITLE}@127.0.0.1:{port}"
    process = start_pacs(port, tmp_path / "pacs")
    yield tmp_path / "pacs"
    process.terminate()
    process.wait(timeout=30)


def test_results_of_a_received_radiograph_file_into_its_original_study_and_its_identifiers_leak_nowhere(
    origin_key, listener, pacs, identified_radiograph, client_for, admin_user, caplog, settings
):
    caplog.set_level(logging.INFO)
    path, identifiers = identified_radiograph

    assert storescu(listener, path).returncode == 0
    study = Study.objects.get()
    studies_analyze(study_id=study.id, claimant="test")
    file_results.apply(args=[str(study.id)])

    received = ReceivedImage.objects.get(study=study)
    assert received.filing_status == FilingStatus.SENT, received.filing_message
    filed = [pydicom.dcmread(file) for file in sorted(pacs.iterdir())]
    assert {dataset.Modality for dataset in filed} == {"SR", "OT", "DOC"}
    assert len(filed) == 1 + study.findings.count() + 1
    for dataset in filed:
        assert dataset.StudyInstanceUID == identifiers["StudyInstanceUID"]
        assert (dataset.PatientID, dataset.AccessionNumber) == (PATIENT_ID, ACCESSION)
    assert {file.name: dciodvfy_errors(file) for file in pacs.iterdir()} == {
        file.name: [] for file in pacs.iterdir()
    }

    client = client_for(admin_user)
    answers = [
        client.get(url).content
        for url in (
            f"/api/studies/{study.id}/",
            "/api/studies/",
            f"/api/studies/{study.id}/fhir/",
            f"/api/studies/{study.id}/pacs/",
            f"/api/studies/{study.id}/report/",
            "/api/audit/",
        )
    ]
    assert client.get(f"/api/studies/{study.id}/pacs/").json()["filing"]["status"] == "sent"
    rows = [repr(row) for model in apps.get_models() for row in model.objects.values()]
    media = [file.read_bytes() for file in Path(settings.MEDIA_ROOT).rglob("*") if file.is_file()]
    logs = caplog.text
    for name, value in identifiers.items():
        assert not any(value in row for row in rows), f"{name} is in the database"
        assert not any(value.encode() in data for data in media), f"{name} is in media storage"
        assert value not in logs, f"{name} is in the logs"
        assert not any(value.encode() in answer for answer in answers), (
            f"{name} is in an API answer or export"
        )


def test_results_are_retried_while_the_pacs_is_down_then_say_why_and_go_once_it_is_up(
    origin_key, identified_radiograph, settings, tmp_path, django_capture_on_commit_callbacks, db
):
    port = free_port()
    settings.CXR_PACS_DESTINATION = f"{PACS_AE_TITLE}@127.0.0.1:{port}"
    settings.CXR_PACS_SEND_RETRIES = 2
    owner = UserFactory()
    with django_capture_on_commit_callbacks(execute=False):
        study = received_image_store(
            received=pacs_received(identified_radiograph[0].read_bytes()),
            owner=owner,
            protocol=ReceivedProtocol.STOW_RS,
        )
    studies_analyze(study_id=study.id, claimant="test")

    file_results.apply(args=[str(study.id)])

    received = ReceivedImage.objects.get(study=study)
    assert received.filing_status == FilingStatus.NOT_SENT
    assert "did not accept an association" in received.filing_message
    assert "Gave up after 3 attempts" in received.filing_message

    process = start_pacs(port, tmp_path / "pacs")
    try:
        file_results.apply(args=[str(study.id)])
    finally:
        process.terminate()
        process.wait(timeout=30)
    received.refresh_from_db()
    assert received.filing_status == FilingStatus.SENT, received.filing_message
    assert received.filing_attempts == 4


def test_without_an_origin_key_the_identifiers_are_not_kept_and_the_study_says_why_it_cannot_go_back(
    identified_radiograph, settings, db
):
    settings.CXR_ORIGIN_KEY = ""
    owner = UserFactory()
    study = received_image_store(
        received=pacs_received(identified_radiograph[0].read_bytes()),
        owner=owner,
        protocol=ReceivedProtocol.STOW_RS,
    )

    received = ReceivedImage.objects.get(study=study)
    assert received.sealed_origin is None
    assert received.filing_status == FilingStatus.NOT_SENT
    assert "CXR_ORIGIN_KEY" in received.filing_message


def test_admins_see_the_dicom_nodes_their_last_contact_and_the_send_queue_with_failures_first(
    identified_radiograph, settings, client_for, admin_user, clinician
):
    settings.CXR_ORIGIN_KEY = ""
    settings.CXR_DICOM_PORT = 11112
    settings.CXR_PACS_DESTINATION = f"{PACS_AE_TITLE}@127.0.0.1:4242"
    study = received_image_store(
        received=pacs_received(identified_radiograph[0].read_bytes()),
        owner=clinician,
        protocol=ReceivedProtocol.DIMSE,
    )

    response = client_for(admin_user).get("/api/pacs/nodes/")

    assert response.status_code == 200, response.content
    listener_node, pacs_node = response.json()["nodes"]
    assert (listener_node["kind"], listener_node["port"], listener_node["configured"]) == (
        "listener",
        11112,
        True,
    )
    assert listener_node["last_contact"] is not None
    assert (pacs_node["ae_title"], pacs_node["port"], pacs_node["last_contact"]) == (
        PACS_AE_TITLE,
        4242,
        None,
    )
    (queued,) = response.json()["queue"]
    assert queued["study_id"] == str(study.id) and queued["filing"]["status"] == "not_sent"
    assert "CXR_ORIGIN_KEY" in queued["filing"]["message"]
    assert client_for(clinician).get("/api/pacs/nodes/").status_code == 403
