"""Real faults under load, on the whole service run as processes (loadtest.service): a worker pool
process SIGKILLed mid-analysis, the service's own Redis stopped and restarted empty, the web
process's PostgreSQL sessions terminated mid-request. Each time: no HTML error page, no study stuck,
none lost, every study done or failed with a message. Bounded: each wave's uploads retry for at
most 60 s and its studies must end within 150 s (loadtest.faults)."""

import os
from pathlib import Path

import pytest
from loadtest.faults import (
    kill_worker_pool_process,
    restart_redis,
    run_wave,
    terminate_web_database_connections,
)
from loadtest.service import LiveService, with_database

from tests.conftest import NIH_DIR

pytestmark = pytest.mark.worker

CLINICIANS = 2
IMAGES_EACH = 3


@pytest.fixture(scope="module")
def sources() -> list[Path]:
    paths = sorted(NIH_DIR.glob("*.png"))
    if not paths:
        pytest.fail(f"Real radiographs are missing under {NIH_DIR}")
    return paths


@pytest.fixture(scope="module")
def live_service(tmp_path_factory, sources):
    admin_url = with_database(os.environ["DATABASE_URL"], "postgres")
    with LiveService.running(
        admin_database_url=admin_url, work=tmp_path_factory.mktemp("live"), clinicians=CLINICIANS
    ) as service:
        # The worker builds the model on its first study; faults strike a warm service.
        warm = run_wave(service, name="warm-up", images_each=1, sources=sources[:1], seed=99)
        assert warm.done == CLINICIANS, warm
        yield service


def assert_every_study_ended(report) -> None:
    assert report.html_answers == 0, report
    assert report.stuck == 0, report
    assert report.lost == 0, report
    assert report.accepted == report.sent == CLINICIANS * IMAGES_EACH, report
    assert report.failed_without_message == 0, report
    # A retried upload whose first answer was lost may leave a second study: it must end too.
    assert report.studies >= report.accepted, report
    assert report.done + report.failed_with_message == report.studies, report


def test_worker_pool_process_killed_mid_analysis_loses_no_study(live_service, sources):
    report = run_wave(
        live_service,
        name="sigkill",
        images_each=IMAGES_EACH,
        sources=sources,
        fault=kill_worker_pool_process,
        seed=1,
    )
    assert report.evidence["running_study"] is not None, "the kill must strike during an analysis"
    assert report.evidence["killed_pool_processes"], "a pool process must have been killed"
    assert_every_study_ended(report)


def test_redis_restarted_empty_under_a_full_queue_loses_no_study_and_an_upload_in_the_outage_is_a_json_503(
    live_service, sources
):
    report = run_wave(
        live_service, name="redis", images_each=IMAGES_EACH, sources=sources, fault=restart_redis, seed=2
    )
    assert report.evidence["outage_upload_status"] == 503
    assert report.evidence["outage_upload_json"]["extra"]["dependency"]
    assert report.evidence["outage_upload_stored_nothing"] is True
    # Every study of the wave was queued when Redis went: the reconciler enqueued them again.
    assert report.evidence["queued_when_redis_stopped"] == report.accepted
    assert report.requeued_by_reconciler >= 1
    assert_every_study_ended(report)


def test_web_database_sessions_terminated_mid_request_answer_json_and_lose_no_study(live_service, sources):
    report = run_wave(
        live_service,
        name="postgres",
        images_each=IMAGES_EACH,
        sources=sources,
        fault=terminate_web_database_connections,
        seed=3,
    )
    assert report.evidence["terminated_web_sessions"] > 0
    assert_every_study_ended(report)
