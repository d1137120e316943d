"""A finding's explanations by each method, asked for through the API and kept once computed."""

import io
import time
from pathlib import Path

import pytest
from PIL import Image

from audit.models import AuditAction, AuditEvent
from ml.classifier.card import ModelCard
from ml.classifier.explanations.explanation import METHODS
from studies import inference
from studies.explanations import explanation_compute
from studies.models import Explanation, StudyStatus
from tests.conftest import queued_task_count
from tests.test_auth import assert_error_shape
from tests.test_worker_end_to_end import (  # noqa: F401 (celery_worker: a fixture)
    WorkerLogs,
    celery_worker,
    wait_until_finished,
)

EXPLANATION_SECONDS = 240
# Each method at a fraction of its default cost (occlusion 4 windows instead of 169, 4 integration
# steps instead of 64...): the worker test is about every method running there and being kept,
# with the settings the installed card gives, not about the maps' resolution.
CHEAP_EXPLANATIONS = {
    "occlusion": {"window": 112, "stride": 112},
    "integrated_gradients": {"steps": 4},
    "smoothgrad": {"samples": 2},
    "faithfulness": {"steps": 4},
}


def explanations_url(study_id, label: str, method: str = "") -> str:
    return f"/api/studies/{study_id}/findings/{label}/explanations/" + (f"{method}/" if method else "")


def png_size(response) -> tuple[int, int]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "image/png"
    return Image.open(io.BytesIO(b"".join(response.streaming_content))).size


@pytest.mark.django_db
def test_an_unknown_method_is_400_and_an_unknown_finding_404_in_the_error_shape(
    analysed_study, clinician, client_for
):
    client = client_for(clinician)
    response = client.post(explanations_url(analysed_study.id, "Effusion", "lime"))
    assert_error_shape(response, 400)
    assert response.json()["extra"]["methods"] == list(METHODS)
    assert_error_shape(client.get(explanations_url(analysed_study.id, "Effusion", "lime")), 400)
    assert_error_shape(client.post(explanations_url(analysed_study.id, "Broken_Leg", "saliency")), 404)
    assert_error_shape(client.get(explanations_url(analysed_study.id, "Broken_Leg")), 404)
    assert not Explanation.objects.exists()


@pytest.mark.django_db
def test_another_users_study_answers_404_for_every_explanation_route(
    analysed_study, other_clinician, client_for
):
    client = client_for(other_clinician)
    for url in (
        explanations_url(analysed_study.id, "Effusion"),
        explanations_url(analysed_study.id, "Effusion", "occlusion"),
        explanations_url(analysed_study.id, "Effusion", "occlusion") + "image/",
    ):
        assert_error_shape(client.get(url), 404)
    assert_error_shape(client.post(explanations_url(analysed_study.id, "Effusion", "occlusion")), 404)
    assert not Explanation.objects.exists()


@pytest.mark.django_db
def test_a_study_not_yet_analysed_and_a_map_not_yet_computed_answer_409(
    analysed_study, clinician, client_for, django_capture_on_commit_callbacks
):
    client = client_for(clinician)
    url = explanations_url(analysed_study.id, "Effusion", "gradcam")
    assert_error_shape(client.get(url + "image/"), 409)
    with django_capture_on_commit_callbacks(execute=False):
        assert client.post(url).status_code == 202
    assert_error_shape(client.get(url + "image/"), 409)
    analysed_study.status = StudyStatus.RUNNING
    analysed_study.save(update_fields=["status"])
    assert_error_shape(client.post(explanations_url(analysed_study.id, "Effusion", "saliency")), 409)


@pytest.mark.django_db
def test_asking_queues_once_and_the_computed_grad_cam_is_kept_with_its_scores(
    analysed_study, clinician, client_for, django_capture_on_commit_callbacks
):
    client = client_for(clinician)
    url = explanations_url(analysed_study.id, "Effusion", "gradcam")
    assert client.get(url).json()["status"] == "not_requested"
    before = queued_task_count()
    with django_capture_on_commit_callbacks(execute=True):
        first, second = client.post(url), client.post(url)
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["status"] == "queued" and first.json()["image"] is None
    assert queued_task_count() == before + 1

    explanation = Explanation.objects.get()
    explanation_compute(explanation_id=explanation.pk)
    # A redelivered task finds the explanation done and leaves it.
    explanation_compute(explanation_id=explanation.pk)
    done = client.post(url)
    assert done.status_code == 200 and queued_task_count() == before + 1
    body = done.json()
    assert body["status"] == "done" and body["model"]["trained"] is False
    assert 0.0 <= body["deletion_auc"] <= 1.0 and 0.0 <= body["insertion_auc"] <= 1.0
    assert body["parameters"]["faithfulness"]["removed"] == "gaussian blur"
    assert png_size(client.get(body["image"])) == (
        analysed_study.key_image.width,
        analysed_study.key_image.height,
    )
    assert AuditEvent.objects.filter(action=AuditAction.HEATMAP_DOWNLOAD, detail__method="gradcam").exists()
    listed = client.get(explanations_url(analysed_study.id, "Effusion")).json()
    assert [row["method"] for row in listed] == list(METHODS)
    assert [row["status"] for row in listed] == ["done"] + ["not_requested"] * (len(METHODS) - 1)


def wait_for_explanation(client, url: str, logs: WorkerLogs) -> dict:
    deadline = time.monotonic() + EXPLANATION_SECONDS
    while time.monotonic() < deadline:
        body = client.get(url).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(1)
    pytest.fail(f"{url} did not finish in {EXPLANATION_SECONDS} s:\n{logs.read_text()}")


@pytest.fixture(scope="session")
def cheap_explanation_weights(tmp_path_factory) -> Path:
    """The seeded untrained network installed as a weights directory whose card sets cheap explanations."""
    from ml.classifier.engine import InferenceEngine

    directory = tmp_path_factory.mktemp("cheap-explanations") / "weights"
    card = InferenceEngine.load(None, backend="keras").save(directory, trained=False)
    ModelCard.from_dict({**card.to_dict(), "explanations": CHEAP_EXPLANATIONS}).save(directory / "card.json")
    return directory


@pytest.fixture
def installed_cheap_explanations(cheap_explanation_weights, settings, monkeypatch) -> None:
    """Those weights for this process and for the worker the test starts after it (its environment)."""
    settings.CXR_WEIGHTS = str(cheap_explanation_weights)
    monkeypatch.setenv("CXR_WEIGHTS", str(cheap_explanation_weights))
    monkeypatch.setattr(inference, "_pipeline", None)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_every_method_runs_in_the_worker_on_a_real_radiograph_with_the_cards_settings_and_is_kept(
    installed_cheap_explanations,
    celery_worker,  # noqa: F811 (the imported fixture)
    clinician,
    client_for,
    upload,
    radiograph_bytes,
    django_capture_on_commit_callbacks,
):
    client = client_for(clinician)
    created = upload(client, radiograph_bytes)
    study = wait_until_finished(client, created.json()["id"], celery_worker)
    assert study["status"] == "done", study["message"]
    label = study["findings"][0]["label"]
    for method in METHODS:
        url = explanations_url(study["id"], label, method)
        asked = client.post(url)
        assert asked.status_code == 202, asked.content
        body = wait_for_explanation(client, url, celery_worker)
        assert body["status"] == "done", body["message"]
        assert 0.0 <= body["deletion_auc"] <= 1.0 and 0.0 <= body["insertion_auc"] <= 1.0
        assert body["seconds"] > 0 and body["model"]["trained"] is False
        tasks_before = queued_task_count()
        again = client.post(url)
        assert again.status_code == 200
        assert again.json()["finished_at"] == body["finished_at"] and queued_task_count() == tasks_before
        assert png_size(client.get(body["image"])) == (study["width"], study["height"])
    integrated = client.get(explanations_url(study["id"], label, "integrated_gradients")).json()
    assert integrated["parameters"]["target"] == "logit" and integrated["parameters"]["steps"] == 4
    occlusion = client.get(explanations_url(study["id"], label, "occlusion")).json()["parameters"]
    assert (occlusion["window"], occlusion["stride"]) == (112, 112)
    listed = client.get(explanations_url(study["id"], label)).json()
    assert {row["status"] for row in listed} == {"done"}


@pytest.mark.django_db
def test_a_failed_a_lost_or_an_abandoned_explanation_is_queued_again_when_asked(
    analysed_study, clinician, client_for, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    client = client_for(clinician)
    url = explanations_url(analysed_study.id, "Effusion", "saliency")
    long_ago = timezone.now() - timedelta(days=1)
    stale_states = {
        StudyStatus.FAILED: {"message": "The explanation failed: out of memory"},
        StudyStatus.QUEUED: {"enqueued_at": long_ago},
        StudyStatus.RUNNING: {"started_at": long_ago},
    }
    for status, fields in stale_states.items():
        Explanation.objects.all().delete()
        explanation = Explanation.objects.create(study=analysed_study, label="Effusion", method="saliency")
        Explanation.objects.filter(pk=explanation.pk).update(status=status, **fields)
        before = queued_task_count()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url)
        assert response.status_code == 202, status
        assert response.json()["status"] == "queued" and response.json()["message"] == ""
        assert queued_task_count() == before + 1, status
    # One just queued or running is left to its task.
    Explanation.objects.update(status=StudyStatus.RUNNING, started_at=timezone.now())
    before = queued_task_count()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).json()["status"] == "running"
    assert queued_task_count() == before
