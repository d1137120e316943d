"""Each uploaded DICOM file is parsed once: that one reading serves grouping by study, the CT
routing, the intake's decoding and de-identification, and a PACS image's sealed origin."""

from collections import Counter
from collections.abc import Callable
from io import BytesIO
from os import PathLike
from pathlib import Path

import pydicom
import pytest
from cryptography.fernet import Fernet
from pydicom.uid import generate_uid

from pacs.models import ReceivedImage, ReceivedProtocol
from pacs.services import pacs_received, received_image_store
from studies.models import StudyImage
from tests.conftest import NIH_DIR
from tests.test_multi_image_studies import FRONTAL_DICOM, TWO_RADIOGRAPHS, dicom_with
from tests.test_pacs_dicom_in import png_as_dicom, stow

pytestmark = pytest.mark.django_db


@pytest.fixture
def parses(monkeypatch) -> Counter[bytes]:
    """How many times pydicom read each file (by its bytes)."""
    counted: Counter[bytes] = Counter()
    read = pydicom.dcmread

    def counting_read(source, *args, **kwargs):
        if isinstance(source, str | PathLike):
            counted[Path(source).read_bytes()] += 1
        else:
            position = source.tell()
            counted[source.read()] += 1
            source.seek(position)
        return read(source, *args, **kwargs)

    monkeypatch.setattr(pydicom, "dcmread", counting_read)
    return counted


def test_a_dicom_upload_is_parsed_once_from_the_view_to_the_stored_study(
    parses, clinician, client_for, upload: Callable[..., object]
):
    sent = FRONTAL_DICOM.read_bytes()

    created = upload(client_for(clinician), sent, "chest.dcm")

    assert created.status_code == 202, created.content
    assert parses == Counter({sent: 1})


def test_each_file_of_a_multi_file_dicom_upload_is_parsed_once(parses, clinician, client_for, upload_images):
    study_uid = generate_uid()
    sent = [dicom_with(StudyInstanceUID=study_uid), dicom_with(StudyInstanceUID=study_uid, ViewPosition="LL")]
    parses.clear()  # making them read the sample

    created = upload_images(client_for(clinician), [("frontal.dcm", sent[0]), ("lateral.dcm", sent[1])])

    assert created.status_code == 202, created.content
    assert StudyImage.objects.filter(study_id=created.json()["id"]).count() == 2
    assert parses == Counter({sent[0]: 1, sent[1]: 1})


def test_each_image_a_pacs_sends_is_parsed_once_grouping_and_origin_included(parses, clinician, settings):
    settings.CXR_ORIGIN_KEY = Fernet.generate_key().decode()
    shared = generate_uid()
    sent = [
        png_as_dicom(NIH_DIR / name, study_uid=shared, patient_id="PID-9", accession="ACC-9")
        for name in TWO_RADIOGRAPHS
    ]

    first = received_image_store(
        received=pacs_received(sent[0]), owner=clinician, protocol=ReceivedProtocol.DIMSE
    )
    second = received_image_store(
        received=pacs_received(sent[1]), owner=clinician, protocol=ReceivedProtocol.DIMSE
    )

    assert second.pk == first.pk
    assert ReceivedImage.objects.get(study=first).sealed_origin is not None
    assert parses == Counter({sent[0]: 1, sent[1]: 1})


def test_an_instance_sent_by_stow_rs_is_parsed_once_its_answer_s_reference_included(
    parses, clinician, client_for
):
    sent = png_as_dicom(NIH_DIR / TWO_RADIOGRAPHS[0], study_uid=generate_uid(), patient_id="P", accession="A")

    answer = stow(client_for(clinician), [("application/dicom", sent)])

    assert answer.status_code == 200, answer.content
    assert parses == Counter({sent: 1})
    [stored] = answer.json()["00081199"]["Value"]
    assert stored["00081155"]["Value"] == [pydicom.dcmread(BytesIO(sent)).SOPInstanceUID]
