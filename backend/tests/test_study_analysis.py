"""The analysis service with the real engine: findings, heatmaps, failures and retries."""

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from studies.models import Study, StudyStatus
from studies.services import study_analyze
from studies.storage import original_path

pytestmark = pytest.mark.django_db


def test_analysis_stores_fourteen_findings_and_heatmaps_at_the_radiographs_size(analysed_study):
    assert analysed_study.status == StudyStatus.DONE
    assert analysed_study.attempts == 1
    assert analysed_study.model_card["trained"] is False
    findings = list(analysed_study.findings.all())
    assert len(findings) == 14
    for finding in findings:
        assert 0.0 <= finding.probability <= 1.0
        with default_storage.open(finding.heatmap_file.name, "rb") as handle:
            heatmap = Image.open(io.BytesIO(handle.read()))
        assert heatmap.size == (analysed_study.width, analysed_study.height)
        assert heatmap.mode == "RGBA"


def test_analysing_a_finished_study_again_changes_nothing(analysed_study):
    before = list(analysed_study.findings.values_list("label", "probability"))
    study_analyze(study_id=analysed_study.id)
    analysed_study.refresh_from_db()
    assert analysed_study.attempts == 1
    assert list(analysed_study.findings.values_list("label", "probability")) == before


def test_unreadable_stored_image_fails_the_study_with_a_message(
    clinician, client_for, upload, radiograph_bytes
):
    study_id = upload(client_for(clinician), radiograph_bytes).json()["id"]
    path = original_path(study_id, "png")
    default_storage.delete(path)
    default_storage.save(path, io.BytesIO(b"\x89PNG\r\n\x1a\ncorrupted"))
    study_analyze(study_id=study_id)
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
    study_analyze(study_id=study_id)
    study = Study.objects.get(pk=study_id)
    assert study.status == StudyStatus.FAILED
    assert "interrupted" in study.message


def test_analysis_that_overruns_its_time_limit_fails_the_study(
    clinician, client_for, upload, radiograph_bytes, monkeypatch
):
    from celery.exceptions import SoftTimeLimitExceeded

    import studies.services

    def overrun(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    study_id = upload(client_for(clinician), radiograph_bytes).json()["id"]
    monkeypatch.setattr(studies.services, "get_engine", overrun)
    study_analyze(study_id=study_id)
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
    for finding in analysed_study.findings.all():
        default_storage.delete(finding.heatmap_file.name)
    response = upload(client_for(clinician), radiograph_bytes)
    assert response.status_code == 202
    assert response.json()["cached"] is False
