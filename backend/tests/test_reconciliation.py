"""A study always ends: the reconciler, the hard time limit hook and the pending cap."""

import threading
from datetime import timedelta

import pytest
from celery.exceptions import TimeLimitExceeded
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from common.jobs import JOB_KINDS, Job, jobs_reconcile
from ml.screener.analyser import SCREENER
from studies.analyser_runs import analyser_runs_execute
from studies.analysis import studies_analyze
from studies.explanations import explanation_compute
from studies.models import Explanation, Finding, Study, StudyStatus
from studies.tasks import analyze_study
from tests.conftest import queued_task_count
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued_study(clinician, client_for, upload, radiograph_bytes) -> Study:
    response = upload(client_for(clinician), radiograph_bytes)
    assert response.status_code == 202, response.content
    return Study.objects.get(pk=response.json()["id"])


def long_ago(settings, deadline: str) -> timezone.datetime:
    return timezone.now() - timedelta(seconds=getattr(settings, deadline) + 1)


def test_queued_study_whose_message_was_lost_is_enqueued_again_and_then_analysed(queued_study, settings):
    Study.objects.filter(pk=queued_study.pk).update(
        enqueued_at=long_ago(settings, "CXR_QUEUED_DEADLINE_SECONDS")
    )
    tasks_before = queued_task_count()
    outcome = jobs_reconcile()
    assert outcome.requeued["study"] == [queued_study.id]
    assert queued_task_count() == tasks_before + 1
    queued_study.refresh_from_db()
    assert (queued_study.status, queued_study.requeues) == (StudyStatus.QUEUED, 1)
    studies_analyze(study_id=queued_study.id, claimant="redelivered")
    assert Study.objects.get(pk=queued_study.pk).status == StudyStatus.DONE


def test_queued_study_within_its_deadline_is_left_alone(queued_study):
    assert jobs_reconcile().requeued["study"] == []
    assert Study.objects.get(pk=queued_study.pk).requeues == 0


def test_queued_study_enqueued_too_often_fails_with_a_message_for_the_clinician(queued_study, settings):
    Study.objects.filter(pk=queued_study.pk).update(
        enqueued_at=long_ago(settings, "CXR_QUEUED_DEADLINE_SECONDS"), requeues=settings.CXR_MAX_REQUEUES
    )
    assert jobs_reconcile().failed["study"] == [queued_study.id]
    queued_study.refresh_from_db()
    assert queued_study.status == StudyStatus.FAILED
    assert "waited too long" in queued_study.message and "Upload the image again" in queued_study.message
    assert queued_study.finished_at is not None


def test_running_study_whose_worker_died_is_enqueued_again_and_then_analysed(queued_study, settings):
    Study.objects.filter(pk=queued_study.pk).update(
        status=StudyStatus.RUNNING,
        claimed_by="dead-task",
        attempts=1,
        started_at=long_ago(settings, "CXR_RUNNING_DEADLINE_SECONDS"),
    )
    assert jobs_reconcile().requeued["study"] == [queued_study.id]
    queued_study.refresh_from_db()
    assert (queued_study.status, queued_study.claimed_by) == (StudyStatus.QUEUED, "")
    studies_analyze(study_id=queued_study.id, claimant="new-task")
    queued_study.refresh_from_db()
    assert (queued_study.status, queued_study.attempts) == (StudyStatus.DONE, 2)


def test_running_study_interrupted_too_often_fails_with_a_message(queued_study, settings):
    Study.objects.filter(pk=queued_study.pk).update(
        status=StudyStatus.RUNNING,
        claimed_by="dead-task",
        attempts=settings.CXR_MAX_ANALYSIS_ATTEMPTS,
        started_at=long_ago(settings, "CXR_RUNNING_DEADLINE_SECONDS"),
    )
    assert jobs_reconcile().failed["study"] == [queued_study.id]
    study = Study.objects.get(pk=queued_study.pk)
    assert study.status == StudyStatus.FAILED and "interrupted" in study.message


def test_study_a_live_task_is_running_is_left_alone(queued_study):
    Study.objects.filter(pk=queued_study.pk).update(
        status=StudyStatus.RUNNING, claimed_by="live-task", attempts=1, started_at=timezone.now()
    )
    outcome = jobs_reconcile()
    assert not outcome
    assert Study.objects.get(pk=queued_study.pk).claimed_by == "live-task"


def test_hard_time_limit_fails_the_batch_the_killed_task_claimed(clinician):
    mine = StudyFactory(owner=clinician, status=StudyStatus.RUNNING, claimed_by="killed-task")
    another = StudyFactory(owner=clinician, status=StudyStatus.RUNNING, claimed_by="other-task")
    # What Celery's worker process calls once it killed the pool process at the hard limit.
    analyze_study.on_failure(TimeLimitExceeded(300), "killed-task", (str(mine.id),), {}, None)
    mine.refresh_from_db()
    assert mine.status == StudyStatus.FAILED and "took longer than" in mine.message
    assert Study.objects.get(pk=another.pk).status == StudyStatus.RUNNING


def test_failed_and_abandoned_studies_do_not_count_towards_the_pending_cap(
    clinician, client_for, upload, radiograph_bytes, settings
):
    settings.CXR_MAX_PENDING_STUDIES_PER_USER = 2
    StudyFactory(owner=clinician, status=StudyStatus.FAILED)
    StudyFactory(
        owner=clinician,
        status=StudyStatus.RUNNING,
        started_at=long_ago(settings, "CXR_RUNNING_DEADLINE_SECONDS"),
    )
    StudyFactory(owner=clinician, status=StudyStatus.QUEUED)
    client = client_for(clinician)
    assert upload(client, radiograph_bytes).status_code == 202
    refused = upload(client, radiograph_bytes)
    assert refused.status_code == 429
    assert refused.json()["extra"] == {"pending": 2, "limit": 2}


@pytest.mark.django_db(transaction=True)
def test_pending_cap_holds_under_concurrent_uploads_on_postgresql(
    clinician, client_for, radiograph_bytes, settings
):
    assert connection.vendor == "postgresql"
    settings.CXR_MAX_PENDING_STUDIES_PER_USER = 3
    uploads = 8
    start = threading.Barrier(uploads, timeout=60)
    statuses: list[int] = []

    def post() -> None:
        try:
            client = client_for(clinician)
            start.wait()
            response = client.post(
                "/api/studies/",
                {"image": SimpleUploadedFile("chest.png", radiograph_bytes)},
                format="multipart",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(uploads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(statuses) == [202] * 3 + [429] * 5
    assert Study.objects.filter(owner=clinician).count() == 3


def test_task_redelivered_after_its_worker_died_takes_back_its_whole_batch(
    clinician, client_for, upload, radiograph_bytes, radiograph_jpeg
):
    client = client_for(clinician)
    first = upload(client, radiograph_bytes).json()["id"]
    second = upload(client, radiograph_jpeg, "chest.jpg").json()["id"]
    # The first run of task-1 claimed both, then its worker was SIGKILLed.
    Study.objects.filter(pk__in=[first, second]).update(
        status=StudyStatus.RUNNING, claimed_by="task-1", attempts=1, started_at=timezone.now()
    )
    studies_analyze(study_id=first, claimant="task-1")
    assert set(Study.objects.filter(pk__in=[first, second]).values_list("status", flat=True)) == {
        StudyStatus.DONE
    }


def job_of_kind(kind: str, study: Study) -> Job:
    """One job of ``kind`` belonging to an analysed study."""
    if kind == "study":
        return study
    if kind == "analyser_run":
        return study.analyser_runs.get(kind=SCREENER)
    return Explanation.objects.create(study=study, label=study.findings.first().label, method="saliency")


@pytest.mark.parametrize("kind", ["study", "analyser_run", "explanation"])
def test_every_kind_of_job_whose_worker_died_is_handed_over_again_then_failed_for_the_clinician(
    kind, analysed_study, settings
):
    # Filing and acceptance runs have their own tests (test_pacs_filing, test_site_acceptance).
    assert set(JOB_KINDS) == {"study", "analyser_run", "explanation", "filing", "acceptance_run"}
    job = job_of_kind(kind, analysed_study)
    job_kind = JOB_KINDS[kind]
    queue = settings.CXR_ANALYSER_QUEUE if kind == "analyser_run" else settings.CELERY_TASK_DEFAULT_QUEUE
    dead = {
        "status": StudyStatus.RUNNING,
        "claimed_by": "dead-worker",
        "started_at": long_ago(settings, "CXR_RUNNING_DEADLINE_SECONDS"),
    }
    type(job).objects.filter(pk=job.pk).update(attempts=1, **dead)
    before = queued_task_count(queue)
    outcome = jobs_reconcile()
    assert outcome.requeued[kind] == [job.pk] and outcome.failed[kind] == []
    # The kind's own task went to its own queue, by name.
    assert queued_task_count(queue) == before + 1
    job.refresh_from_db()
    assert (job.status, job.claimed_by, job.requeues) == (StudyStatus.QUEUED, "", 1)

    type(job).objects.filter(pk=job.pk).update(attempts=settings.CXR_MAX_ANALYSIS_ATTEMPTS, **dead)
    assert jobs_reconcile().failed[kind] == [job.pk]
    job.refresh_from_db()
    assert job.status == StudyStatus.FAILED and job.finished_at is not None
    assert job.message == job_kind.gave_up_interrupted.format(attempts=settings.CXR_MAX_ANALYSIS_ATTEMPTS)


@pytest.mark.parametrize("kind", ["study", "analyser_run", "explanation"])
def test_every_kind_of_job_a_redelivered_task_had_claimed_is_taken_back_by_it_and_ends(
    kind, analysed_study, settings
):
    """The worker died mid-task: Celery redelivers the task under the same id, which takes its own
    claim back at once (no waiting for the running deadline); another task's live claim is left."""
    job = job_of_kind(kind, analysed_study)
    if kind == "study":
        # Send it back to the queue so the classifier runs again (the fixture analysed it).
        Finding.objects.filter(study=analysed_study).delete()
    claimed = {
        "status": StudyStatus.RUNNING,
        "claimed_by": "task-1",
        "attempts": 1,
        "started_at": timezone.now(),
    }
    type(job).objects.filter(pk=job.pk).update(**claimed)
    run_task = {
        "study": lambda claimant: studies_analyze(study_id=analysed_study.id, claimant=claimant),
        "analyser_run": lambda claimant: analyser_runs_execute([analysed_study.id], claimant=claimant),
        "explanation": lambda claimant: explanation_compute(explanation_id=job.pk, claimant=claimant),
    }[kind]
    run_task("task-2")
    job.refresh_from_db()
    assert (job.status, job.claimed_by) == (StudyStatus.RUNNING, "task-1")
    run_task("task-1")
    job.refresh_from_db()
    assert (job.status, job.attempts, job.message) == (StudyStatus.DONE, 2, "")
