"""Images from a PACS: the DICOM listener (dcmtk's storescu and echoscu against it) and STOW-RS.

Each chest radiograph becomes a study of the receiving account through the same intake as an
upload; a CT image, a knee radiograph, a lateral view and an unreadable file are refused with a
DICOM failure status and the reason, audited, and leave no study.
"""

import io
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pydicom
import pytest
from django.conf import settings
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ComputedRadiographyImageStorage, CTImageStorage, ExplicitVRLittleEndian, generate_uid

from audit.models import AuditAction, AuditEvent
from pacs.listener import start_listener
from pacs.models import ReceivedImage
from studies.models import Study
from tests.conftest import CXR_DATA_DIR, NIH_DIR
from tests.factories import UserFactory
from tests.test_auth import assert_error_shape

LISTENER_AE_TITLE = "CXR_TEST"
SENDER_AE_TITLE = "TEST_MODALITY"
DICOM_DIR = CXR_DATA_DIR / "dicom"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dcmtk(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is missing: run `make system-packages` (Debian's dcmtk)")
    return path


def png_as_dicom(png: Path, *, study_uid: str, patient_id: str, accession: str) -> bytes:
    """A CR chest radiograph made from one of the NIH PNGs, with identifiers like a PACS's."""
    pixels = np.asarray(Image.open(png).convert("L"), dtype=np.uint8)
    dataset = Dataset()
    dataset.SOPClassUID = ComputedRadiographyImageStorage
    dataset.SOPInstanceUID = generate_uid()
    dataset.StudyInstanceUID = study_uid
    dataset.SeriesInstanceUID = generate_uid()
    dataset.PatientName = "Doe^Jane"
    dataset.PatientID = patient_id
    dataset.AccessionNumber = accession
    dataset.PatientBirthDate = "19700101"
    dataset.PatientSex = "F"
    dataset.StudyDate, dataset.StudyTime, dataset.StudyID = "20260101", "101010", "1"
    dataset.ReferringPhysicianName = ""
    dataset.Modality, dataset.BodyPartExamined, dataset.ViewPosition = "CR", "CHEST", "PA"
    dataset.SeriesNumber = dataset.InstanceNumber = 1
    dataset.SamplesPerPixel, dataset.PhotometricInterpretation = 1, "MONOCHROME2"
    dataset.Rows, dataset.Columns = pixels.shape
    dataset.BitsAllocated = dataset.BitsStored = 8
    dataset.HighBit, dataset.PixelRepresentation = 7, 0
    dataset.PixelData = pixels.tobytes()
    return encoded(dataset)


def encoded(dataset: Dataset) -> bytes:
    dataset.file_meta = FileMetaDataset()
    dataset.file_meta.MediaStorageSOPClassUID = dataset.SOPClassUID
    dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def altered_sample(**attributes: str) -> bytes:
    """The real sample radiograph with some attributes changed (a CT, a knee, a lateral view)."""
    dataset = pydicom.dcmread(DICOM_DIR / "siim-sample.dcm")
    for keyword, value in attributes.items():
        setattr(dataset, keyword, value)
    dataset.SOPInstanceUID = generate_uid()
    dataset.file_meta.MediaStorageSOPClassUID = dataset.SOPClassUID
    dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


@pytest.fixture
def service_account(settings, transactional_db):
    account = UserFactory(username="pacs-service")
    settings.CXR_DICOM_SERVICE_ACCOUNT = account.username
    settings.CXR_DICOM_SENDERS = [SENDER_AE_TITLE]
    return account


@pytest.fixture
def listener(service_account):
    port = free_port()
    server = start_listener(host="127.0.0.1", port=port, ae_title=LISTENER_AE_TITLE, block=False)
    yield port
    server.shutdown()


def storescu(port: int, *paths: Path) -> subprocess.CompletedProcess:
    command = [
        dcmtk("storescu"),
        # Debug output shows each response's status and Error Comment.
        "-d",
        # Propose JPEG Baseline too: the real sample radiographs are JPEG-compressed.
        "--propose-jpeg8",
        "-aet",
        SENDER_AE_TITLE,
        "-aec",
        LISTENER_AE_TITLE,
        "127.0.0.1",
        str(port),
    ]
    return subprocess.run([*command, *map(str, paths)], capture_output=True, text=True, timeout=120)


def test_storescu_sends_real_and_png_made_radiographs_images_of_one_study_uid_join_one_study(
    listener, service_account, tmp_path
):
    shared_study = generate_uid()
    files = [DICOM_DIR / "siim-sample.dcm", DICOM_DIR / "siim-sample-monochrome1.dcm"]
    for index, png in enumerate(sorted(NIH_DIR.glob("*.png"))[:2]):
        path = tmp_path / f"nih-{index}.dcm"
        path.write_bytes(
            png_as_dicom(png, study_uid=shared_study, patient_id="PID-4242", accession="ACC-4242")
        )
        files.append(path)

    sent = storescu(listener, *files)

    assert sent.returncode == 0, sent.stderr
    # The two samples are one study (the MONOCHROME1 one is made from the other), as are the NIH pair.
    studies = Study.objects.filter(owner=service_account)
    assert studies.count() == 2
    assert sorted(study.images.count() for study in studies) == [2, 2]
    assert all(study.status == "queued" for study in studies)
    received = list(ReceivedImage.objects.filter(study__in=studies))
    assert {image.calling_ae_title for image in received} == {SENDER_AE_TITLE}
    assert len({image.study_group for image in received}) == 2
    uploads = AuditEvent.objects.filter(action=AuditAction.STUDY_UPLOAD, target_type="study")
    assert uploads.count() == len(files)
    assert sum(1 for event in uploads if event.detail.get("joined")) == 2


def test_the_same_image_sent_again_adds_nothing_and_a_lateral_joins_its_frontal_not_analysed(
    listener, service_account, tmp_path
):
    frontal, lateral = tmp_path / "frontal.dcm", tmp_path / "lateral.dcm"
    frontal.write_bytes(altered_sample())
    lateral.write_bytes(altered_sample(ViewPosition="LL"))

    sent = storescu(listener, frontal, frontal, lateral)

    assert sent.returncode == 0, sent.stderr
    study = Study.objects.get(owner=service_account)
    assert [(image.view, image.analysed) for image in study.images.all()] == [
        ("frontal", True),
        ("lateral", False),
    ]


@pytest.mark.parametrize(
    ("attributes", "status", "reason"),
    [
        ({"Modality": "CT", "SOPClassUID": CTImageStorage}, "a900", "modality"),
        ({"BodyPartExamined": "KNEE"}, "a900", "body part"),
        ({"ViewPosition": "LL"}, "a900", "view"),
    ],
    ids=["ct-image", "knee-radiograph", "lateral-view"],
)
def test_storescu_of_a_non_chest_or_non_frontal_image_is_refused_with_a900_and_the_reason_audited(
    listener, service_account, tmp_path, attributes, status, reason
):
    path = tmp_path / "refused.dcm"
    path.write_bytes(altered_sample(**attributes))

    sent = storescu(listener, path)

    output = (sent.stdout + sent.stderr).lower()
    comment = next(line for line in output.splitlines() if "errorcomment" in line)
    assert f"0x{status}" in output and reason in comment, output
    assert not Study.objects.exists()
    event = AuditEvent.objects.get(action=AuditAction.STUDY_UPLOAD, target_type="dicom")
    assert event.detail["status"] == 422 and event.detail["calling_ae_title"] == SENDER_AE_TITLE
    assert reason in event.detail["refused"].lower()


def test_dicom_listener_command_answers_echoscu_and_refuses_to_start_without_an_account(service_account):
    port = free_port()
    database = settings.DATABASES["default"]
    environment = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "CXR_DICOM_SERVICE_ACCOUNT": service_account.username,
        # echoscu's own calling AE title.
        "CXR_DICOM_SENDERS": "ECHOSCU",
    }
    command = [
        sys.executable,
        "manage.py",
        "dicom_listener",
        "--port",
        str(port),
        "--ae-title",
        LISTENER_AE_TITLE,
    ]
    process = subprocess.Popen(
        command, cwd=settings.BACKEND_DIR, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            echo = subprocess.run(
                [dcmtk("echoscu"), "-aec", LISTENER_AE_TITLE, "127.0.0.1", str(port)],
                capture_output=True,
                timeout=30,
            )
            if echo.returncode == 0 or time.monotonic() > deadline or process.poll() is not None:
                break
            time.sleep(0.5)
        assert echo.returncode == 0, echo.stderr
    finally:
        process.terminate()
        process.wait(timeout=30)
    refused = subprocess.run(
        [*command[:-4], "--port", str(port)],
        cwd=settings.BACKEND_DIR,
        env={**environment, "CXR_DICOM_SERVICE_ACCOUNT": "nobody-here"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0 and "CXR_DICOM_SERVICE_ACCOUNT" in refused.stderr


def stow(client, parts: list[tuple[str, bytes]], boundary: str = "cxr-boundary"):
    body = b"".join(
        f"--{boundary}\r\nContent-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n"
        for content_type, data in parts
    )
    body += f"--{boundary}--\r\n".encode()
    return client.generic(
        "POST",
        "/api/dicomweb/studies/",
        body,
        content_type=f'multipart/related; type="application/dicom"; boundary={boundary}',
    )


@pytest.mark.django_db
def test_stow_rs_stores_a_radiograph_and_refuses_a_ct_and_an_unreadable_part_with_their_reasons(
    client_for, clinician, django_capture_on_commit_callbacks
):
    parts = [
        ("application/dicom", (DICOM_DIR / "siim-sample.dcm").read_bytes()),
        ("application/dicom", altered_sample(Modality="CT", SOPClassUID=CTImageStorage)),
        ("application/dicom", b"DICM but not really"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = stow(client_for(clinician), parts)

    assert response.status_code == 202, response.content
    answer = response.json()
    (stored,) = answer["00081199"]["Value"]
    assert "/api/studies/" in stored["00081190"]["Value"][0]
    failures = [item["00081197"]["Value"][0] for item in answer["00081198"]["Value"]]
    assert failures == [0xA900, 0xC000]
    assert Study.objects.filter(owner=clinician).count() == 1
    assert ReceivedImage.objects.get().protocol == "stow-rs"
    assert AuditEvent.objects.filter(action=AuditAction.STUDY_UPLOAD, target_type="dicom").count() == 2


@pytest.mark.django_db
def test_stow_rs_with_nothing_stored_is_409_and_bad_bodies_are_400_or_415(client_for, clinician):
    client = client_for(clinician)
    refused = stow(client, [("application/dicom", altered_sample(BodyPartExamined="KNEE"))])
    assert_error_shape(refused, 409)
    assert refused.json()["extra"]["dicom"]["00081198"]["Value"][0]["00081197"]["Value"] == [0xA900]
    assert_error_shape(stow(client, [("image/png", (NIH_DIR / "00030012_000.png").read_bytes())]), 415)
    assert_error_shape(
        client.generic("POST", "/api/dicomweb/studies/", b"", content_type="multipart/related; boundary=x"),
        400,
    )
    assert_error_shape(client.post("/api/dicomweb/studies/", {"a": 1}, format="json"), 415)
    assert not Study.objects.exists()


@pytest.mark.django_db
def test_stow_rs_needs_a_signed_in_user(client):
    assert_error_shape(stow(client, [("application/dicom", b"")]), 401)
