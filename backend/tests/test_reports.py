"""The PDF report of a study: a real PDF with the findings, heatmaps, model card, time and user."""

import io

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image
from pypdf import PdfReader

from audit.models import AuditAction, AuditEvent
from ml.classifier.explanations.heatmaps import Heatmaps
from ml.images.preprocessing import CropBox
from tests.factories import StudyFactory, add_findings
from tests.test_auth import assert_error_shape

pytestmark = pytest.mark.django_db

PROBABILITIES = {"Cardiomegaly": 0.81, "Effusion": 0.62, "Pneumothorax": 0.12, "Pleural_Thickening": 0.05}


@pytest.fixture
def finished_study(clinician, radiograph_path):
    """A done study with its display image and one heatmap file per finding in media storage."""
    clinician.first_name, clinician.last_name = "Gregory", "House"
    clinician.save()
    study = StudyFactory(owner=clinician, key_image__original_filename="chest-pa.png")
    grey = io.BytesIO()
    Image.open(radiograph_path).convert("L").save(grey, format="PNG")
    default_storage.save(study.key_image.display_file.name, ContentFile(grey.getvalue()))
    add_findings(study, PROBABILITIES)
    labels = tuple(PROBABILITIES)
    ramp = np.tile(np.linspace(0.0, 1.0, 7, dtype=np.float32), (7, 1))
    # Each finding a different map: identical images would be stored once in the PDF.
    maps = np.stack([ramp ** (index + 1) for index in range(len(labels))])
    heatmaps = Heatmaps(labels=labels, maps=maps, crop=CropBox(0, 0, 1024), width=1024, height=1024)
    study.key_image.heatmaps_file = default_storage.save(
        f"studies/{study.id}/heatmaps.npz", ContentFile(heatmaps.to_bytes())
    )
    study.key_image.save(update_fields=["heatmaps_file"])
    return study


def report(client, study, query: str = ""):
    return client.get(f"/api/studies/{study.id}/report/{query}")


def pdf_text(response) -> str:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def pdf_image_count(response) -> int:
    reader = PdfReader(io.BytesIO(response.content))
    return sum(len(page.images) for page in reader.pages)


def test_report_is_a_pdf_with_findings_thresholds_model_card_time_and_user(
    clinician, client_for, finished_study
):
    response = report(client_for(clinician), finished_study, "?labels=Cardiomegaly,Pneumothorax")
    assert response["Content-Disposition"] == f'attachment; filename="cxr-report-{finished_study.id}.pdf"'
    text = pdf_text(response)
    assert response.content.startswith(b"%PDF-")
    for expected in [
        "chest-pa.png",
        "Cardiomegaly",
        "81.0%",
        "Pleural Thickening",
        "5.0%",
        "threshold",
        "50.0%",
        "densenet121-chestxray14",
        "0.1.0-untrained-seed0",
        "Made by",
        f"{clinician.username} (Gregory House)",
        "Report made",
        "UTC",
        "Decision support, not a diagnosis.",
    ]:
        assert expected in text, expected
    # The radiograph and one heatmap per chosen finding.
    assert pdf_image_count(response) == 3


def test_report_of_an_untrained_model_carries_the_warning(clinician, client_for, finished_study):
    assert "Untrained model — not for clinical use" in pdf_text(report(client_for(clinician), finished_study))


def test_report_of_a_trained_model_has_no_untrained_warning(clinician, client_for, finished_study):
    finished_study.model_card = {
        **finished_study.model_card,
        "trained": True,
        "training_data": "NIH train split",
    }
    finished_study.save()
    text = pdf_text(report(client_for(clinician), finished_study))
    assert "Untrained model" not in text
    assert "NIH train split" in text


def test_report_without_labels_shows_the_heatmaps_of_the_positive_findings(
    clinician, client_for, finished_study
):
    response = report(client_for(clinician), finished_study)
    assert pdf_image_count(response) == 1 + 2  # Cardiomegaly and Effusion are positive
    assert "Grad-CAM heatmaps" in pdf_text(response)


def test_report_with_an_empty_label_list_has_no_heatmaps(clinician, client_for, finished_study):
    response = report(client_for(clinician), finished_study, "?labels=")
    assert pdf_image_count(response) == 1
    assert "Grad-CAM heatmaps" not in pdf_text(response)


def test_report_download_is_audited_with_its_labels(clinician, client_for, finished_study):
    report(client_for(clinician), finished_study, "?labels=Effusion")
    [event] = AuditEvent.objects.filter(action=AuditAction.REPORT_DOWNLOAD)
    assert (event.actor, event.target_id, event.detail) == (
        clinician,
        str(finished_study.id),
        {"labels": ["Effusion"]},
    )


def test_report_with_an_unknown_finding_is_400(clinician, client_for, finished_study):
    assert_error_shape(report(client_for(clinician), finished_study, "?labels=Cardiomegaly,Broken_Leg"), 400)
    assert not AuditEvent.objects.filter(action=AuditAction.REPORT_DOWNLOAD).exists()


def test_report_of_an_unfinished_study_is_400(clinician, client_for):
    queued = StudyFactory(owner=clinician, status="queued")
    assert_error_shape(report(client_for(clinician), queued), 400)


def test_report_of_another_clinicians_study_is_404(other_clinician, client_for, finished_study):
    assert_error_shape(report(client_for(other_clinician), finished_study), 404)


def test_admin_gets_a_report_made_in_their_name(admin_user, client_for, finished_study):
    assert admin_user.username in pdf_text(report(client_for(admin_user), finished_study))


def test_client_asking_for_application_pdf_gets_the_pdf(clinician, client_for, finished_study):
    response = client_for(clinician).get(
        f"/api/studies/{finished_study.id}/report/", HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")


def test_report_lists_the_image_metadata_of_a_dicom_study(clinician, client_for, finished_study):
    finished_study.key_image.image_metadata = {
        "modality": "CR",
        "view_position": "PA",
        "patient_age_years": 62,
        "patient_sex": "M",
        "pixel_spacing_mm": [0.168, 0.168],
    }
    finished_study.key_image.save()
    text = pdf_text(report(client_for(clinician), finished_study))
    expected = ["Patient age (years)", "62", "View position", "PA", "Pixel spacing (mm)", "0.168 x 0.168"]
    for line in expected:
        assert line in text, line


def placed_text(page) -> list[tuple[float, float, str]]:
    """Each piece of a page's text with where it is: its text matrix, then the transformation."""
    placed: list[tuple[float, float, str]] = []
    page.extract_text(
        visitor_text=lambda text, cm, tm, _font, _size: placed.append(
            (tm[4] * cm[0] + tm[5] * cm[2] + cm[4], tm[4] * cm[1] + tm[5] * cm[3] + cm[5], text.strip())
        )
    )
    return placed


def test_the_footer_wraps_short_of_the_page_number_on_every_page(clinician, client_for, finished_study):
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from reports.services import FOOTER_FONT, FOOTER_SIZE

    response = report(client_for(clinician), finished_study, "?labels=Cardiomegaly,Effusion,Pneumothorax")
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) >= 2
    for number, page in enumerate(reader.pages, start=1):
        pieces = [(x, y, text) for x, y, text in placed_text(page) if text and y < FOOTER_TOP]
        page_label = [(x, y) for x, y, text in pieces if text == f"page {number}"]
        assert len(page_label) == 1, pieces
        footer = [(x, y, text) for x, y, text in pieces if text != f"page {number}"]
        assert footer and "Decision support, not a diagnosis." in " ".join(text for _x, _y, text in footer)
        for x, _y, text in footer:
            assert x + stringWidth(text, FOOTER_FONT, FOOTER_SIZE) < page_label[0][0], (number, text)


def lowest_content(page) -> float:
    """How far down the page its content goes (PDF points from the bottom), the footer left out:
    the lowest line of text or bottom edge of an image above the bottom margin."""
    bottoms = [y for _x, y, text in placed_text(page) if text and y > FOOTER_TOP]

    def image_bottom(operator, _operands, cm, _tm) -> None:
        if operator == b"Do":
            bottoms.append(cm[5])

    page.extract_text(visitor_operand_before=image_bottom)
    return min(bottoms)


# The footer's lines sit below 40 points; the bottom margin is 1.6 cm (45 points).
FOOTER_TOP = 40


def test_no_page_but_the_last_ends_in_its_top_two_thirds(clinician, client_for, analysed_study):
    """The heatmaps' heading goes with their first row only, so no page breaks early and is left
    nearly empty (all heatmaps kept with the heading moved whole to the next page)."""
    labels = ",".join(sorted(analysed_study.findings.values_list("label", flat=True))[:5])
    response = report(client_for(clinician), analysed_study, f"?labels={labels}")
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) >= 3
    height = float(reader.pages[0].mediabox.height)
    for number, page in enumerate(reader.pages[:-1], start=1):
        assert lowest_content(page) < height / 3, f"page {number} of {len(reader.pages)} ends early"
