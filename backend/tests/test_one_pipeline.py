"""One pipeline, every caller: the service and `python -m ml predict` give the same answer for a file."""

import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from PIL import Image, ImageOps

from studies.analysis import studies_analyze
from studies.models import Study, StudyStatus
from tests.conftest import CXR_DATA_DIR

pytestmark = pytest.mark.django_db


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def predict_cli(path: Path) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": "/usr/bin:/bin", "CUDA_VISIBLE_DEVICES": "-1"}
    return subprocess.run(
        [sys.executable, "-m", "ml", "predict", "--json", str(path)],
        capture_output=True,
        text=True,
        timeout=180,
        env=environment,
        check=False,
    )


def service_findings(client, upload, content: bytes, name: str) -> tuple[dict, dict[str, float]]:
    created = upload(client, content, name)
    assert created.status_code == 202, created.content
    studies_analyze(study_id=created.json()["id"], claimant="test")
    detail = client.get(f"/api/studies/{created.json()['id']}/").json()
    assert detail["status"] == "done", detail
    return detail, {finding["label"]: finding["probability"] for finding in detail["findings"]}


@pytest.mark.parametrize(
    "source",
    ["inverted PNG", "MONOCHROME1 DICOM"],
)
def test_predict_and_the_service_agree_on_an_inverted_radiograph(
    source, clinician, client_for, upload, radiograph_path, tmp_path
):
    if source == "inverted PNG":
        content = png_bytes(ImageOps.invert(Image.open(radiograph_path).convert("L")))
        path = tmp_path / "inverted.png"
    else:
        content = (CXR_DATA_DIR / "dicom" / "siim-sample-monochrome1.dcm").read_bytes()
        path = tmp_path / "monochrome1.dcm"
    path.write_bytes(content)

    detail, service = service_findings(client_for(clinician), upload, content, path.name)
    cli = predict_cli(path)
    assert cli.returncode == 0, cli.stderr
    (image,) = json.loads(cli.stdout)["images"]
    # Both saw the inverted grey scale, corrected it the same way and computed the same findings.
    assert detail["screening"]["corrected"] == image["screening"]["corrected"] == "inverted grey scale"
    predicted = {finding["label"]: finding["probability"] for finding in image["findings"]}
    assert predicted.keys() == service.keys()
    assert max(abs(predicted[label] - service[label]) for label in service) <= 1e-6


def test_predict_and_the_service_refuse_a_rotated_radiograph_with_the_same_reason(
    clinician, client_for, upload, radiograph_path, tmp_path
):
    content = png_bytes(Image.open(radiograph_path).convert("L").rotate(90, expand=True))
    path = tmp_path / "rotated.png"
    path.write_bytes(content)

    response = upload(client_for(clinician), content, path.name)
    assert response.status_code == 422
    assert response.json()["extra"]["reason"] == "rotated"
    cli = predict_cli(path)
    assert cli.returncode == 2
    assert cli.stderr.strip() == f"error: {path}: {response.json()['message']}"
    assert not Study.objects.exists()


def queue_without_tasks(client, upload, monkeypatch, contents: list[bytes]) -> list[str]:
    """Upload studies whose tasks are never sent, as if they waited behind a busy worker."""
    import studies.services

    monkeypatch.setattr(studies.services, "enqueue_analysis", lambda study_id: None)
    ids = []
    for index, content in enumerate(contents):
        response = upload(client, content, f"chest-{index}.png")
        assert response.status_code == 202, response.content
        ids.append(response.json()["id"])
    return ids


def test_one_task_analyses_the_waiting_studies_as_a_batch(clinician, client_for, upload, monkeypatch):
    paths = sorted((CXR_DATA_DIR / "nih").glob("*.png"))[:3]
    ids = queue_without_tasks(client_for(clinician), upload, monkeypatch, [p.read_bytes() for p in paths])

    studies_analyze(study_id=ids[0], claimant="task-a")
    studies = Study.objects.filter(pk__in=ids)
    assert {study.status for study in studies} == {StudyStatus.DONE}
    assert {study.claimed_by for study in studies} == {"task-a"}
    assert all(study.findings.count() == 14 for study in studies)

    # The other studies' own tasks come later and find nothing left to do.
    studies_analyze(study_id=ids[1], claimant="task-b")
    assert Study.objects.get(pk=ids[1]).attempts == 1


def test_a_study_claimed_by_a_live_batch_is_left_to_it_and_an_abandoned_claim_is_taken_over(
    clinician, client_for, upload, monkeypatch, radiograph_bytes
):
    [study_id] = queue_without_tasks(client_for(clinician), upload, monkeypatch, [radiograph_bytes])
    Study.objects.filter(pk=study_id).update(
        status=StudyStatus.RUNNING, claimed_by="task-a", started_at=timezone.now(), attempts=1
    )
    studies_analyze(study_id=study_id, claimant="task-b")
    assert Study.objects.get(pk=study_id).status == StudyStatus.RUNNING

    # The claim is older than the hard time limit: its worker died, so the study's task takes it.
    abandoned_at = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1)
    Study.objects.filter(pk=study_id).update(started_at=abandoned_at)
    studies_analyze(study_id=study_id, claimant="task-b")
    study = Study.objects.get(pk=study_id)
    assert (study.status, study.claimed_by, study.attempts) == (StudyStatus.DONE, "task-b", 2)


def test_a_redelivered_task_takes_its_own_running_study_back(
    clinician, client_for, upload, monkeypatch, radiograph_bytes
):
    [study_id] = queue_without_tasks(client_for(clinician), upload, monkeypatch, [radiograph_bytes])
    # The worker process died mid-analysis; the broker hands the same task (same id) out again.
    Study.objects.filter(pk=study_id).update(
        status=StudyStatus.RUNNING, claimed_by="task-a", started_at=timezone.now(), attempts=1
    )
    studies_analyze(study_id=study_id, claimant="task-a")
    assert Study.objects.get(pk=study_id).status == StudyStatus.DONE
