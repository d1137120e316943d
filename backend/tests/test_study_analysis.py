"""The analysis service with the real engine: findings, heatmaps, failures and retries."""

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from ml.classifier.explanations.heatmaps import Heatmaps
from ml.classifier.postprocess import calibrated_score
from studies.analysis import studies_analyze
from studies.models import Study, StudyImage, StudyStatus
from studies.storage import original_path

pytestmark = pytest.mark.django_db


def test_analysis_stores_fourteen_findings_and_one_small_heatmaps_file(analysed_study):
    assert analysed_study.status == StudyStatus.DONE
    assert analysed_study.attempts == 1
    assert analysed_study.model_card["trained"] is False
    findings = list(analysed_study.findings.all())
    assert len(findings) == 14
    for finding in findings:
        assert 0.0 <= finding.probability <= 1.0
        assert finding.calibrated_score == calibrated_score(finding.probability, finding.threshold)
    with default_storage.open(analysed_study.key_image.heatmaps_file.name, "rb") as handle:
        heatmaps = Heatmaps.from_bytes(handle.read())
    assert set(heatmaps.labels) == {finding.label for finding in findings}
    assert heatmaps.maps.shape == (14, 7, 7)
    assert (heatmaps.width, heatmaps.height) == (
        analysed_study.key_image.width,
        analysed_study.key_image.height,
    )


def test_heatmap_is_served_as_rgba_png_at_the_radiographs_size(analysed_study, clinician, client_for):
    finding = analysed_study.findings.first()
    response = client_for(clinician).get(f"/api/studies/{analysed_study.id}/heatmaps/{finding.label}/")
    assert response.status_code == 200
    heatmap = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert heatmap.size == (analysed_study.key_image.width, analysed_study.key_image.height)
    assert heatmap.mode == "RGBA"


def test_worker_runs_the_input_the_web_process_prepared_without_decoding_again(
    clinician, client_for, upload, radiograph_bytes
):
    study_id = upload(client_for(clinician), radiograph_bytes).json()["id"]
    study = Study.objects.get(pk=study_id)
    # With a prepared input in place, the original file is never read: corrupting it changes nothing.
    default_storage.delete(study.key_image.original_file.name)
    default_storage.save(study.key_image.original_file.name, io.BytesIO(b"\x89PNG\r\n\x1a\ncorrupted"))
    studies_analyze(study_id=study_id, claimant="test")
    assert Study.objects.get(pk=study_id).status == StudyStatus.DONE


def test_analysing_a_finished_study_again_changes_nothing(analysed_study):
    before = list(analysed_study.findings.values_list("label", "probability"))
    studies_analyze(study_id=analysed_study.id, claimant="test")
    analysed_study.refresh_from_db()
    assert analysed_study.attempts == 1
    assert list(analysed_study.findings.values_list("label", "probability")) == before


def test_unreadable_stored_image_fails_the_study_with_a_message(
    clinician, client_for, upload, radiograph_bytes
):
    study_id = upload(client_for(clinician), radiograph_bytes).json()["id"]
    # Without a prepared input (as for another model's), the worker reads the stored original.
    StudyImage.objects.filter(study_id=study_id).update(model_input_file="")
    path = original_path(study_id, "png")
    default_storage.delete(path)
    default_storage.save(path, io.BytesIO(b"\x89PNG\r\n\x1a\ncorrupted"))
    studies_analyze(study_id=study_id, claimant="test")
    study = Study.objects.get(pk=study_id)
    assert study.status == StudyStatus.FAILED
    assert study.message.startswith("Analysis failed:")
    assert study.finished_at is not None
    assert not study.findings.exists()


def test_study_interrupted_too_often_fails_instead_of_running_forever(
    clinician, client_for, upload, radiograph_bytes, settings
):
    study_id = upload(client_for(clinician), radiograph_bytes).json()["id"]
    # A worker that died mid-analysis leaves the study running with its attempt counted.
    Study.objects.filter(pk=study_id).update(
        status=StudyStatus.RUNNING, attempts=settings.CXR_MAX_ANALYSIS_ATTEMPTS
    )
    studies_analyze(study_id=study_id, claimant="test")
    study = Study.objects.get(pk=study_id)
    assert study.status == StudyStatus.FAILED
    assert "interrupted" in study.message


def test_analysis_that_overruns_its_time_limit_fails_the_study(
    clinician, client_for, upload, radiograph_bytes, monkeypatch
):
    from celery.exceptions import SoftTimeLimitExceeded

    import studies.analysis

    def overrun(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    study_id = upload(client_for(clinician), radiograph_bytes).json()["id"]
    monkeypatch.setattr(studies.analysis, "worker_models", overrun)
    studies_analyze(study_id=study_id, claimant="test")
    study = Study.objects.get(pk=study_id)
    assert study.status == StudyStatus.FAILED
    assert "longer than" in study.message


def test_same_image_after_analysis_is_answered_from_cache_without_a_task(
    analysed_study, other_clinician, client_for, upload, radiograph_bytes, monkeypatch
):
    import studies.services

    def no_task(study_id):
        raise AssertionError("a cached image must not be queued for analysis")

    monkeypatch.setattr(studies.services, "enqueue_analysis", no_task)
    response = upload(client_for(other_clinician), radiograph_bytes)
    assert response.status_code == 201, response.content
    assert response.json() == {"id": response.json()["id"], "status": "done", "cached": True}
    detail = client_for(other_clinician).get(f"/api/studies/{response.json()['id']}/").json()
    assert detail["cached"] is True
    original = {finding.label: finding.probability for finding in analysed_study.findings.all()}
    assert {finding["label"]: finding["probability"] for finding in detail["findings"]} == original
    heatmap = client_for(other_clinician).get(detail["findings"][0]["heatmap"])
    assert heatmap.status_code == 200


def test_cache_entry_whose_heatmaps_are_gone_is_analysed_again(
    analysed_study, clinician, client_for, upload, radiograph_bytes
):
    default_storage.delete(analysed_study.key_image.heatmaps_file.name)
    response = upload(client_for(clinician), radiograph_bytes)
    assert response.status_code == 202
    assert response.json()["cached"] is False
