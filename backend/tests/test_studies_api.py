"""Uploading, listing and reading studies through the API, and who may see what."""

import io
import uuid

import numpy as np
import pytest
from django.core.files.storage import default_storage
from PIL import Image

from studies.models import Study, StudyStatus
from tests.conftest import queued_task_count
from tests.test_auth import assert_error_shape

pytestmark = pytest.mark.django_db


def stored_files() -> list[str]:
    found: list[str] = []

    def walk(folder: str) -> None:
        if not default_storage.exists(folder or "."):
            return
        folders, files = default_storage.listdir(folder)
        found.extend(f"{folder}/{name}" for name in files)
        for sub in folders:
            walk(f"{folder}/{sub}" if folder else sub)

    walk("")
    return found


def test_png_upload_is_queued_with_one_task(clinician, client_for, upload, radiograph_bytes):
    before = queued_task_count()
    response = upload(client_for(clinician), radiograph_bytes)
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    assert response.json()["cached"] is False
    study = Study.objects.get(pk=response.json()["id"])
    assert (study.owner, study.key_image.width, study.key_image.height) == (clinician, 1024, 1024)
    assert queued_task_count() == before + 1


def test_jpeg_upload_is_accepted(clinician, client_for, upload, radiograph_jpeg):
    response = upload(client_for(clinician), radiograph_jpeg, "chest.jpg")
    assert response.status_code == 202, response.content
    assert Study.objects.get(pk=response.json()["id"]).key_image.content_type == "image/jpeg"


def test_sixteen_bit_png_upload_is_accepted(clinician, client_for, upload, radiograph_path):
    wide = Image.fromarray(np.asarray(Image.open(radiograph_path).convert("L"), dtype=np.uint16) * 257)
    buffer = io.BytesIO()
    wide.save(buffer, format="PNG")
    response = upload(client_for(clinician), buffer.getvalue(), "chest16.png")
    assert response.status_code == 202, response.content


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"", 400),
        (b"%PDF-1.7 not a radiograph", 415),
        (b"just some text", 415),
    ],
    ids=["empty", "pdf", "text"],
)
def test_bad_upload_is_refused_and_leaves_nothing(clinician, client_for, upload, content, status):
    response = upload(client_for(clinician), content, "notes.png")
    assert_error_shape(response, status)
    assert not Study.objects.exists()
    assert stored_files() == []


def test_truncated_png_is_refused_and_leaves_nothing(clinician, client_for, upload, radiograph_bytes):
    response = upload(client_for(clinician), radiograph_bytes[: len(radiograph_bytes) // 2])
    assert_error_shape(response, 400)
    assert not Study.objects.exists()
    assert stored_files() == []


def test_upload_over_the_size_limit_is_413(clinician, client_for, upload, radiograph_bytes, settings):
    settings.CXR_MAX_UPLOAD_BYTES = len(radiograph_bytes) - 1
    response = upload(client_for(clinician), radiograph_bytes)
    assert_error_shape(response, 413)
    assert not Study.objects.exists()


def test_upload_without_image_field_is_400(clinician, client_for):
    assert_error_shape(client_for(clinician).post("/api/studies/", {}, format="multipart"), 400)


def test_clinician_lists_only_their_own_studies_newest_first(
    clinician, other_clinician, client_for, upload, radiograph_bytes, radiograph_jpeg
):
    first = upload(client_for(clinician), radiograph_bytes).json()["id"]
    second = upload(client_for(clinician), radiograph_jpeg, "chest.jpg").json()["id"]
    upload(client_for(other_clinician), radiograph_bytes)
    listing = client_for(clinician).get("/api/studies/").json()
    assert listing["count"] == 2
    assert [study["id"] for study in listing["results"]] == [second, first]


def test_admin_lists_every_study(
    clinician, other_clinician, admin_user, client_for, upload, radiograph_bytes
):
    upload(client_for(clinician), radiograph_bytes)
    upload(client_for(other_clinician), radiograph_bytes)
    assert client_for(admin_user).get("/api/studies/").json()["count"] == 2


def test_list_filters_by_status(clinician, client_for, upload, radiograph_bytes):
    upload(client_for(clinician), radiograph_bytes)
    client = client_for(clinician)
    assert client.get("/api/studies/?status=queued").json()["count"] == 1
    assert client.get("/api/studies/?status=done").json()["count"] == 0
    assert_error_shape(client.get("/api/studies/?status=bogus"), 400)


def test_another_clinicians_study_is_404(analysed_study, other_clinician, client_for):
    client = client_for(other_clinician)
    assert_error_shape(client.get(f"/api/studies/{analysed_study.id}/"), 404)
    assert_error_shape(client.get(f"/api/studies/{analysed_study.id}/image/"), 404)
    assert_error_shape(client.get(f"/api/studies/{analysed_study.id}/heatmaps/Effusion/"), 404)


def test_admin_reads_any_study(analysed_study, admin_user, client_for):
    assert client_for(admin_user).get(f"/api/studies/{analysed_study.id}/").status_code == 200


def test_unknown_study_is_404(clinician, client_for):
    assert_error_shape(client_for(clinician).get(f"/api/studies/{uuid.uuid4()}/"), 404)


def test_study_detail_follows_the_contract(analysed_study, clinician, client_for):
    body = client_for(clinician).get(f"/api/studies/{analysed_study.id}/").json()
    assert body["status"] == StudyStatus.DONE
    assert body["image"] == f"/api/studies/{analysed_study.id}/image/"
    assert body["model"]["trained"] is False
    assert {"name", "version", "weights_sha256", "trained"} <= set(body["model"])
    assert len(body["findings"]) == 14
    for finding in body["findings"]:
        assert 0.0 <= finding["probability"] <= 1.0
        assert finding["positive"] == (finding["probability"] >= finding["threshold"])
        assert finding["heatmap"] == f"/api/studies/{analysed_study.id}/heatmaps/{finding['label']}/"


def test_heatmap_of_unknown_finding_is_404(analysed_study, clinician, client_for):
    assert_error_shape(
        client_for(clinician).get(f"/api/studies/{analysed_study.id}/heatmaps/Broken_Leg/"), 404
    )


def test_radiograph_image_is_served_as_png_at_its_size(analysed_study, clinician, client_for):
    response = client_for(clinician).get(f"/api/studies/{analysed_study.id}/image/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(b"".join(response.streaming_content))).size == (1024, 1024)


def test_unknown_api_path_is_json_404(client_for, clinician):
    assert_error_shape(client_for(clinician).get("/api/nothing-here/"), 404)


def test_study_shows_the_cards_validation_figures_in_their_typed_schema(clinician, client_for):
    from ml.classifier.card import ModelCard
    from ml.classifier.registry import untrained_card
    from tests.factories import StudyFactory

    finding = {
        "positives": 12,
        "negatives": 88,
        "auroc": 0.9,
        "auroc_ci95": [0.8, 0.97],
        "threshold": 0.3,
        "threshold_from": "validation",
        "sensitivity": 0.83,
        "specificity": 0.9,
        "ppv": 0.53,
        "f1": 0.65,
    }
    validation = {
        "split": {"by": "Patient ID", "val_fraction": 0.1, "seed": 0},
        "images": 100,
        "patients": 40,
        "mean_auroc": 0.9,
        "mean_auroc_ci95": [0.8, 0.97],
        "threshold_method": "f1",
        "best_epoch": {"stage": "finetune", "epoch": 2, "val_mean_auroc": 0.9},
        "findings": {"Cardiomegaly": finding},
    }
    # The card the worker stores is one ml accepted, so the figures are known to follow the schema.
    card = ModelCard.from_dict({**untrained_card().to_dict(), "trained": True, "validation": validation})
    study = StudyFactory(owner=clinician, model_card=card.to_dict())
    model = client_for(clinician).get(f"/api/studies/{study.id}/").json()["model"]
    assert model["validation"] == validation
