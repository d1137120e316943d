"""The analysers beside the classifier (segmentation with the cardiothoracic ratio, the screener) in
the service: run after the findings, each with its own card and untrained warning, failing alone."""

import datetime
import threading

import pytest
from django.utils import timezone

from common.jobs import jobs_reconcile
from ml.screener.analyser import SCREENER
from ml.segmentation.analyser import SEGMENTATION
from ml.segmentation.cardiothoracic import AP_CAVEAT
from studies.analyser_runs import analyser_runs_execute
from studies.models import AnalyserRun, StudyStatus
from tests.conftest import analyse_here, queued_task_count
from tests.factories import store_measured_ratio
from tests.test_auth import assert_error_shape
from tests.test_reports import pdf_text

pytestmark = pytest.mark.django_db


def test_both_analysers_run_on_a_real_radiograph_after_its_findings_and_say_they_are_untrained(
    analysed_study, clinician, client_for
):
    study = client_for(clinician).get(f"/api/studies/{analysed_study.id}/").json()
    assert study["status"] == "done" and len(study["findings"]) == 14

    screener = study["screener"]
    assert screener["status"] == "done", screener["message"]
    assert screener["analyser"]["kind"] == SCREENER and screener["analyser"]["trained"] is False
    assert screener["analyser"]["version"].endswith("-untrained-seed0")
    assert 0.0 <= screener["probability"] <= 1.0
    assert screener["likely_abnormal"] == (screener["probability"] >= screener["threshold"])

    segmentation = study["segmentation"]
    assert segmentation["status"] == "done", segmentation["message"]
    assert segmentation["analyser"]["kind"] == SEGMENTATION and segmentation["analyser"]["trained"] is False
    # An untrained segmentation's outlines are not anatomy: no ratio is given as a measurement.
    assert segmentation["cardiothoracic_ratio"] is None
    assert "untrained" in segmentation["cardiothoracic_ratio_note"]
    assert {"left_lung", "right_lung", "heart"} <= set(segmentation["structures"])


def test_a_measured_cardiothoracic_ratio_reaches_the_api_as_ml_stored_it(
    analysed_study, clinician, client_for
):
    # The untrained network measures no ratio, so a trained card's measurement is stored by hand.
    store_measured_ratio(analysed_study)

    segmentation = client_for(clinician).get(f"/api/studies/{analysed_study.id}/").json()["segmentation"]
    assert segmentation["cardiothoracic_ratio"] == {
        "ratio": 0.5625,
        "heart_line": [[200, 300], [343, 300]],
        "thorax_line": [[120, 280], [375, 280]],
        "normal_upper_limit": 0.5,
        "above_range": True,
        "view": "AP",
        "caveat": AP_CAVEAT,
    }
    assert segmentation["cardiothoracic_ratio_note"] is None


def test_segmentation_outlines_are_polygons_in_radiograph_pixels(analysed_study, clinician, client_for):
    client = client_for(clinician)
    study = client.get(f"/api/studies/{analysed_study.id}/").json()
    outlines = client.get(study["segmentation"]["outlines"])
    assert outlines.status_code == 200, outlines.content
    body = outlines.json()
    assert (body["width"], body["height"]) == (
        analysed_study.key_image.width,
        analysed_study.key_image.height,
    )
    assert body["trained"] is False
    assert [structure["name"] for structure in body["structures"]] == study["segmentation"]["structures"]
    points = [
        point for structure in body["structures"] for polygon in structure["outlines"] for point in polygon
    ]
    assert points, "an untrained network still draws some outline"
    assert all(0 <= x <= body["width"] and 0 <= y <= body["height"] for x, y in points)


def test_outlines_of_a_segmentation_not_done_are_409_and_of_another_clinicians_study_404(
    analysed_study, clinician, other_clinician, client_for
):
    AnalyserRun.objects.filter(study=analysed_study, kind=SEGMENTATION).update(status=StudyStatus.RUNNING)
    response = client_for(clinician).get(f"/api/studies/{analysed_study.id}/segmentation/")
    assert_error_shape(response, 409)
    assert (
        client_for(other_clinician).get(f"/api/studies/{analysed_study.id}/segmentation/").status_code == 404
    )


def test_worklist_shows_the_screener_and_sorts_most_likely_abnormal_first(
    clinician, client_for, upload, radiograph_bytes, radiograph_jpeg
):
    client = client_for(clinician)
    ids = []
    for content, name in ((radiograph_bytes, "a.png"), (radiograph_jpeg, "b.jpg")):
        created = upload(client, content, name)
        assert created.status_code == 202, created.content
        ids.append(created.json()["id"])
        analyse_here(created.json()["id"])
    # The untrained screener answers about 0.5 for every image: give the two runs distinct answers.
    probability = {ids[0]: 0.2, ids[1]: 0.9}
    for study_id, value in probability.items():
        run = AnalyserRun.objects.get(study_id=study_id, kind=SCREENER)
        run.score, run.result = value, {**run.result, "probability": value, "likely_abnormal": value >= 0.5}
        run.save()

    listed = client.get("/api/studies/", {"ordering": "-screener_probability"}).json()["results"]
    assert [item["id"] for item in listed] == [ids[1], ids[0]]
    for item in listed:
        assert item["screener"]["status"] == "done" and item["screener"]["trained"] is False
        assert item["screener"]["probability"] == probability[item["id"]]
    assert [item["screener"]["likely_abnormal"] for item in listed] == [True, False]

    # A study whose screener has not answered yet sorts last, whatever its probability was.
    first = listed[0]["id"]
    AnalyserRun.objects.filter(study_id=first, kind=SCREENER).update(status=StudyStatus.QUEUED)
    listed = client.get("/api/studies/", {"ordering": "-screener_probability"}).json()["results"]
    assert listed[-1]["id"] == first and listed[-1]["screener"]["status"] == "queued"


def test_a_broken_analyser_fails_alone_with_its_message_and_the_findings_stay(
    settings, tmp_path, clinician, client_for, upload, radiograph_bytes
):
    from studies import inference

    broken = tmp_path / "segmentation"
    broken.mkdir()
    (broken / "card.json").write_text("{not json")
    settings.CXR_ANALYSER_WEIGHTS = {**settings.CXR_ANALYSER_WEIGHTS, SEGMENTATION: str(broken)}
    inference._pipeline = None  # this process's pipeline is built again with the broken directory
    try:
        created = upload(client_for(clinician), radiograph_bytes)
        study_id = created.json()["id"]
        analyse_here(study_id)
    finally:
        inference._pipeline = None
    study = client_for(clinician).get(f"/api/studies/{study_id}/").json()
    assert study["status"] == "done" and len(study["findings"]) == 14
    assert study["segmentation"]["status"] == "failed"
    assert "segmentation" in study["segmentation"]["message"]
    assert study["screener"]["status"] == "done"


def test_a_study_answered_from_the_cache_gets_its_analysers_run_too_from_the_analysers_queue(
    settings, clinician, client_for, upload, radiograph_bytes, analysed_study
):
    studies_before = queued_task_count()
    analysers_before = queued_task_count(settings.CXR_ANALYSER_QUEUE)
    again = upload(client_for(clinician), radiograph_bytes)
    assert again.json()["cached"] is True
    # Its runs were handed to the analysers' own queue after the commit, not to the study queue.
    assert queued_task_count(settings.CXR_ANALYSER_QUEUE) == analysers_before + 1
    assert queued_task_count() == studies_before
    runs = AnalyserRun.objects.filter(study_id=again.json()["id"])
    assert {run.kind for run in runs} == {SCREENER, SEGMENTATION}
    assert all(run.status == StudyStatus.QUEUED for run in runs)
    analyser_runs_execute([again.json()["id"]])
    assert all(run.status == StudyStatus.DONE for run in runs.all())


def test_reconciler_hands_a_lost_analyser_run_over_again_then_gives_up(settings, analysed_study):
    run = AnalyserRun.objects.get(study=analysed_study, kind=SCREENER)
    late = timezone.now() - datetime.timedelta(seconds=settings.CXR_QUEUED_DEADLINE_SECONDS + 5)
    AnalyserRun.objects.filter(pk=run.pk).update(status=StudyStatus.QUEUED, enqueued_at=late, requeues=0)
    before = queued_task_count(settings.CXR_ANALYSER_QUEUE)
    outcome = jobs_reconcile()
    assert outcome.requeued["analyser_run"] == [run.pk]
    assert queued_task_count(settings.CXR_ANALYSER_QUEUE) == before + 1
    run.refresh_from_db()
    assert run.status == StudyStatus.QUEUED and run.requeues == 1

    AnalyserRun.objects.filter(pk=run.pk).update(
        status=StudyStatus.RUNNING,
        started_at=timezone.now() - datetime.timedelta(seconds=settings.CXR_RUNNING_DEADLINE_SECONDS + 5),
        attempts=settings.CXR_MAX_ANALYSIS_ATTEMPTS,
    )
    assert jobs_reconcile().failed["analyser_run"] == [run.pk]
    run.refresh_from_db()
    assert run.status == StudyStatus.FAILED and "interrupted" in run.message


def test_model_analysers_lists_each_analysers_own_card(clinician, client_for):
    cards = client_for(clinician).get("/api/model/analysers/").json()
    assert [card["kind"] for card in cards] == [SEGMENTATION, SCREENER]
    assert all(card["trained"] is False and card["version"].endswith("-untrained-seed0") for card in cards)


def test_report_shows_each_analyser_with_its_own_untrained_warning(analysed_study, clinician, client_for):
    response = client_for(clinician).get(f"/api/studies/{analysed_study.id}/report/")
    assert response.status_code == 200
    text = " ".join(pdf_text(response).split())
    assert "Normal/abnormal screener" in text
    assert "never reports a study as normal" in text
    assert "Anatomy and cardiothoracic ratio" in text
    assert "no cardiothoracic ratio is measured" in text
    assert text.count("Untrained model — not for clinical use") >= 3


@pytest.mark.django_db(transaction=True)
def test_embedded_mode_finishes_a_study_s_findings_while_the_analysers_thread_is_busy(
    settings, clinician, client_for, upload, radiograph_bytes
):
    from common.jobs import embedded_executor
    from studies.dispatch import ANALYSER_RUN, STUDY
    from studies.models import Study

    settings.CXR_EMBEDDED_TASKS = True
    # The analysers' thread is busy (as with another study's analysers) until released.
    release = threading.Event()
    busy = embedded_executor(ANALYSER_RUN.thread).submit(release.wait, 120)
    try:
        created = upload(client_for(clinician), radiograph_bytes)
        assert created.status_code == 202, created.content
        study_id = created.json()["id"]
        embedded_executor(STUDY.thread).submit(lambda: None).result(
            timeout=120
        )  # the findings thread is through
        assert Study.objects.get(pk=study_id).status == StudyStatus.DONE
        runs = AnalyserRun.objects.filter(study_id=study_id)
        assert {run.status for run in runs} == {StudyStatus.QUEUED}
    finally:
        release.set()
    busy.result(timeout=10)
    embedded_executor(ANALYSER_RUN.thread).submit(lambda: None).result(timeout=120)
    assert {run.kind: run.status for run in runs.all()} == {
        SCREENER: StudyStatus.DONE,
        SEGMENTATION: StudyStatus.DONE,
    }
