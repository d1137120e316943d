"""Who may send to the DICOM listener: an allowed calling AE title stores, an unknown one and an
allowed one from another address are refused at association (A-ASSOCIATE-RJ, calling AE title not
recognised) and audited. dcmtk's storescu and echoscu call the real listener on a loopback port."""

import subprocess

import pytest

from audit.models import AuditAction, AuditEvent
from pacs.listener import start_listener
from pacs.models import DicomSender
from studies.models import Study
from tests.factories import UserFactory
from tests.test_pacs_dicom_in import DICOM_DIR, LISTENER_AE_TITLE, dcmtk, free_port

ALLOWED_AE_TITLE = "WARD_CR1"


@pytest.fixture
def listener(settings, transactional_db):
    # No sender from the settings: only what an admin allowed.
    settings.CXR_DICOM_SENDERS = []
    port = free_port()
    server = start_listener(host="127.0.0.1", port=port, ae_title=LISTENER_AE_TITLE, block=False)
    yield port
    server.shutdown()


def store(port: int, calling_ae_title: str) -> subprocess.CompletedProcess:
    command = [
        dcmtk("storescu"),
        "--propose-jpeg8",
        "-aet",
        calling_ae_title,
        "-aec",
        LISTENER_AE_TITLE,
        "127.0.0.1",
        str(port),
        str(DICOM_DIR / "siim-sample.dcm"),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def refusals() -> list[dict]:
    return [event.detail for event in AuditEvent.objects.filter(action=AuditAction.DICOM_SENDER_REFUSED)]


def test_an_allowed_calling_ae_title_stores_as_its_account(listener):
    account = UserFactory(username="ward-cr")
    DicomSender.objects.create(ae_title=ALLOWED_AE_TITLE, account=account, allowed_addresses="127.0.0.0/8")

    sent = store(listener, ALLOWED_AE_TITLE)

    assert sent.returncode == 0, sent.stderr
    assert Study.objects.get().owner == account
    assert refusals() == []


def test_an_unknown_calling_ae_title_is_rejected_at_association_and_audited(listener):
    DicomSender.objects.create(ae_title=ALLOWED_AE_TITLE, account=UserFactory())

    echo = subprocess.run(
        [dcmtk("echoscu"), "-aet", "STRANGER", "-aec", LISTENER_AE_TITLE, "127.0.0.1", str(listener)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    sent = store(listener, "STRANGER")

    assert echo.returncode != 0
    assert "calling ae title not recognized" in (echo.stdout + echo.stderr).lower()
    assert sent.returncode != 0 and not Study.objects.exists()
    assert [(event["calling_ae_title"], event["refused"]) for event in refusals()] == [
        ("STRANGER", "calling AE title not allowed")
    ] * 2


def test_an_allowed_calling_ae_title_from_another_address_is_rejected_and_audited(listener):
    DicomSender.objects.create(
        ae_title=ALLOWED_AE_TITLE, account=UserFactory(), allowed_addresses="10.20.30.0/24"
    )

    sent = store(listener, ALLOWED_AE_TITLE)

    assert sent.returncode != 0
    assert "calling ae title not recognized" in (sent.stdout + sent.stderr).lower()
    assert not Study.objects.exists()
    (refusal,) = refusals()
    assert refusal == {
        "calling_ae_title": ALLOWED_AE_TITLE,
        "address": "127.0.0.1",
        "refused": "calling AE title not allowed from this address",
    }


def test_a_withdrawn_sender_is_rejected_and_one_from_the_settings_stores_as_the_service_account(
    listener, settings
):
    service = UserFactory(username="pacs-service")
    settings.CXR_DICOM_SERVICE_ACCOUNT = service.username
    settings.CXR_DICOM_SENDERS = [ALLOWED_AE_TITLE, "ROUTER@127.0.0.1"]
    # An admin's row wins over the settings: withdrawn, the AE title may not send.
    DicomSender.objects.create(ae_title=ALLOWED_AE_TITLE, account=UserFactory(), is_active=False)

    assert store(listener, ALLOWED_AE_TITLE).returncode != 0
    assert store(listener, "ROUTER").returncode == 0
    assert Study.objects.get().owner == service
    assert [event["calling_ae_title"] for event in refusals()] == [ALLOWED_AE_TITLE]
