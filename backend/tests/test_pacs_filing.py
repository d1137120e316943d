"""Filing results back into the PACS without leaking: dcmtk's storescp stands in for the PACS.

A radiograph with identifiers arrives through the listener, is analysed, and its SR, heatmap
Secondary Captures and PDF reach the PACS in the patient's original study; the identifiers are
then searched for in the database, media storage, logs, API answers, exports and the audit log.
While the PACS is down the task retries, then says why the results were not sent.
"""

import io
import logging
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pydicom
import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone
from pydicom.uid import generate_uid

from common.jobs import JobStatus, jobs_reconcile
from pacs.dispatch import FILING
from pacs.filing import filing_unavailable
from pacs.models import FilingStatus, ReceivedImage, ReceivedProtocol
from pacs.services import pacs_received, received_image_store
from pacs.tasks import file_results
from studies.analysis import studies_analyze
from studies.models import Study
from tests import test_pacs_dicom_in
from tests.conftest import NIH_DIR, queued_task_count
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
    assert received.filing_status == FilingStatus.SENT, received.message
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
    assert "did not accept an association" in received.message
    assert "Gave up after 3 attempts" in received.message

    # An admin sends it again once the PACS is back: queued, shown as waiting to retry.
    call_command("refile_results", stdout=io.StringIO())
    received.refresh_from_db()
    assert received.filing_status == FilingStatus.RETRYING and received.message == ""
    process = start_pacs(port, tmp_path / "pacs")
    try:
        file_results.apply(args=[str(study.id)])
    finally:
        process.terminate()
        process.wait(timeout=30)
    received.refresh_from_db()
    assert received.filing_status == FilingStatus.SENT, received.message
    assert received.attempts == 4


def test_a_filing_whose_worker_died_is_handed_over_again_then_failed_and_one_waiting_for_its_analysis_is_not(
    origin_key, identified_radiograph, settings, django_capture_on_commit_callbacks, db
):
    settings.CXR_PACS_SEND_RETRIES = 2
    with django_capture_on_commit_callbacks(execute=False):
        study = received_image_store(
            received=pacs_received(identified_radiograph[0].read_bytes()),
            owner=UserFactory(),
            protocol=ReceivedProtocol.STOW_RS,
        )
    received = ReceivedImage.objects.get(study=study)
    long_ago = timezone.now() - timedelta(seconds=settings.CXR_RUNNING_DEADLINE_SECONDS + 1)
    # Waiting for the study's analysis, however long: never handed over, so nothing is lost.
    ReceivedImage.objects.filter(pk=received.pk).update(created_at=long_ago)
    assert jobs_reconcile().requeued["filing"] == []
    assert ReceivedImage.objects.get(pk=received.pk).filing_status == FilingStatus.WAITING

    dead = {
        "status": JobStatus.RUNNING,
        "claimed_by": "dead-worker",
        "started_at": long_ago,
        "enqueued_at": long_ago,
    }
    ReceivedImage.objects.filter(pk=received.pk).update(attempts=1, **dead)
    before = queued_task_count()
    assert jobs_reconcile().requeued["filing"] == [received.pk]
    assert queued_task_count() == before + 1
    received.refresh_from_db()
    assert received.filing_status == FilingStatus.RETRYING

    # As many attempts as the task makes: given up, saying how to send it again.
    ReceivedImage.objects.filter(pk=received.pk).update(attempts=3, **dead)
    assert jobs_reconcile().failed["filing"] == [received.pk]
    received.refresh_from_db()
    assert received.filing_status == FilingStatus.NOT_SENT
    assert received.message == FILING.gave_up_interrupted.format(attempts=3)
    assert "refile_results" in received.message


def test_a_pacs_out_of_reach_leaves_the_filing_waiting_to_retry_when_it_is_due_and_the_api_says_so(
    origin_key, identified_radiograph, settings, client_for, admin_user, db
):
    study = received_image_store(
        received=pacs_received(identified_radiograph[0].read_bytes()),
        owner=UserFactory(),
        protocol=ReceivedProtocol.STOW_RS,
    )
    # Its first attempt (claimed, as the task claims it) could not reach the PACS.
    ReceivedImage.objects.filter(study=study).update(status=JobStatus.RUNNING, attempts=1)
    filing_unavailable(
        study_id=study.id, message="The PACS did not answer. Trying again in 60 s.", retry_in=60
    )

    received = ReceivedImage.objects.get(study=study)
    assert received.enqueued_at > timezone.now() + timedelta(seconds=50)
    (queued,) = client_for(admin_user).get("/api/pacs/nodes/").json()["queue"]
    assert queued["filing"]["status"] == "retrying"
    assert queued["filing"]["status_display"].startswith("Waiting to retry")
    assert "Trying again in 60 s" in queued["filing"]["message"]


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
    assert "CXR_ORIGIN_KEY" in received.message


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


def test_the_admin_sites_refile_action_queues_a_failed_filing_again(
    origin_key, identified_radiograph, django_capture_on_commit_callbacks, admin_user, client, db
):
    with django_capture_on_commit_callbacks(execute=False):
        study = received_image_store(
            received=pacs_received(identified_radiograph[0].read_bytes()),
            owner=UserFactory(),
            protocol=ReceivedProtocol.STOW_RS,
        )
    studies_analyze(study_id=study.id, claimant="test")
    received = ReceivedImage.objects.get(study=study)
    ReceivedImage.objects.filter(pk=received.pk).update(status=JobStatus.FAILED, message="The PACS refused")
    client.force_login(admin_user)

    answer = client.post(
        "/admin/pacs/receivedimage/", {"action": "refile", "_selected_action": [received.pk]}, follow=True
    )

    assert answer.status_code == 200
    assert "1 filings queued to be sent again." in answer.content.decode()
    received.refresh_from_db()
    assert received.status == JobStatus.QUEUED and received.enqueued_at is not None
    assert client.get("/admin/pacs/dicomsender/add/").status_code == 200
