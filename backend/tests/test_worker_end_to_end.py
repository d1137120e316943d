"""The whole analysis path with a real Celery worker process, PostgreSQL and Redis."""

import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection
from PIL import Image
from pynetdicom import AE, AllStoragePresentationContexts, evt

from pacs.models import FilingStatus, ReceivedImage, ReceivedProtocol
from pacs.services import pacs_received, received_image_store
from studies.dispatch import enqueue_analysers
from studies.models import AnalyserRun, Explanation, Study, StudyStatus
from tests.conftest import study_finished
from tests.factories import UserFactory
from tests.test_pacs_dicom_in import (  # noqa: F401 (listener and service_account: fixtures)
    DICOM_DIR,
    free_port,
    listener,
    service_account,
    storescu,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WORKER_READY_SECONDS = 120
ANALYSIS_SECONDS = 240


def worker_database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class WorkerLogs:
    """The logs of the two worker processes a deployment runs: findings and analysers."""

    def __init__(self, folder: Path) -> None:
        self.paths = {role: folder / f"worker-{role}.log" for role in ("findings", "analysers")}

    def read_text(self) -> str:
        return "\n".join(f"--- {role} worker\n{path.read_text()}" for role, path in self.paths.items())


@contextmanager
def worker_process(role: str, log_path: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """One Celery worker of ``role`` (config/celery_app.py) on this run's queues, started and ready."""
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=1"]
    command += ["--without-mingle", "--without-gossip", "--role", role]
    command += ["--hostname", f"{role}-{os.getpid()}@%h"]
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            command, cwd=settings.BACKEND_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + WORKER_READY_SECONDS
        while "ready." not in log_path.read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"The Celery {role} worker did not start:\n{log_path.read_text()}")
            time.sleep(0.5)
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()


def worker_environment(media_root: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "CXR_MEDIA_ROOT": str(media_root),
        **extra,
    }


@pytest.fixture
def celery_worker(media_root: Path, tmp_path: Path) -> Iterator[WorkerLogs]:
    """The findings worker and the analysers' worker on the test database, media and this run's queues."""
    logs = WorkerLogs(tmp_path)
    env = worker_environment(media_root)
    with (
        worker_process("findings", logs.paths["findings"], env),
        worker_process("analysers", logs.paths["analysers"], env),
    ):
        yield logs


def wait_until_finished(client, study_id: str, logs: WorkerLogs) -> dict:
    deadline = time.monotonic() + ANALYSIS_SECONDS
    while time.monotonic() < deadline:
        study = client.get(f"/api/studies/{study_id}/").json()
        if study_finished(study):
            return study
        time.sleep(1)
    pytest.fail(f"Study {study_id} did not finish in {ANALYSIS_SECONDS} s:\n{logs.read_text()}")


def test_upload_is_analysed_by_the_worker_then_the_same_image_comes_from_cache(
    celery_worker, clinician, client_for, upload, radiograph_bytes, monkeypatch
):
    client = client_for(clinician)
    created = upload(client, radiograph_bytes)
    assert created.status_code == 202, created.content

    study = wait_until_finished(client, created.json()["id"], celery_worker)
    assert study["status"] == "done", study["message"]
    assert study["cached"] is False
    assert study["model"]["trained"] is False
    assert len(study["findings"]) == 14
    assert all(0.0 <= finding["probability"] <= 1.0 for finding in study["findings"])

    heatmap = client.get(study["findings"][0]["heatmap"])
    assert heatmap.status_code == 200
    assert Image.open(io.BytesIO(b"".join(heatmap.streaming_content))).size == (
        study["width"],
        study["height"],
    )
    assert (study["width"], study["height"]) == Image.open(io.BytesIO(radiograph_bytes)).size

    import studies.services

    def no_task(study_id):
        raise AssertionError("a cached image must not be queued for analysis")

    monkeypatch.setattr(studies.services, "enqueue_analysis", no_task)
    again = upload(client, radiograph_bytes)
    assert again.status_code == 201, again.content
    assert again.json()["status"] == "done" and again.json()["cached"] is True
    # Only the analysers beside the classifier are queued for it (the worker runs them), never the
    # classifier (no_task above).
    assert wait_until_finished(client, again.json()["id"], celery_worker)["screener"]["status"] == "done"
    cached = client.get(f"/api/studies/{again.json()['id']}/").json()
    assert [f["probability"] for f in cached["findings"]] == [f["probability"] for f in study["findings"]]


# The U-Net of the slow weights directory takes its input at this side (16 times the default's pixels),
# so that one segmentation run lasts seconds on a CPU.
SLOW_SEGMENTATION_INPUT = 1024


@pytest.fixture(scope="session")
def slow_segmentation_weights(tmp_path_factory) -> Path:
    """A real segmentation weights directory (card.json and model.weights.h5) whose runs are slow."""
    from ml.segmentation.card import untrained_unet_card
    from ml.segmentation.unet import build_unet
    from ml.weights.directory import save_weights_directory

    card = untrained_unet_card(input_size=SLOW_SEGMENTATION_INPUT)
    directory = tmp_path_factory.mktemp("slow-segmentation")
    save_weights_directory(build_unet(len(card.structures), card.input_size), directory, card)
    return directory


def poll(client, study_id: str, condition, logs: WorkerLogs, what: str) -> dict:
    deadline = time.monotonic() + ANALYSIS_SECONDS
    while time.monotonic() < deadline:
        study = client.get(f"/api/studies/{study_id}/").json()
        if condition(study):
            return study
        time.sleep(0.1)
    pytest.fail(f"Study {study_id} was not {what} in {ANALYSIS_SECONDS} s:\n{logs.read_text()}")


def test_a_study_s_findings_are_done_while_another_study_s_analysers_are_still_running(
    slow_segmentation_weights,
    media_root,
    tmp_path,
    clinician,
    client_for,
    upload,
    radiograph_bytes,
    radiograph_jpeg,
):
    logs = WorkerLogs(tmp_path)
    env = worker_environment(media_root, CXR_SEGMENTATION_WEIGHTS=str(slow_segmentation_weights))
    with (
        worker_process("findings", logs.paths["findings"], env),
        worker_process("analysers", logs.paths["analysers"], env),
    ):
        client = client_for(clinician)
        first = upload(client, radiograph_bytes).json()["id"]
        segmenting = lambda study: (study["segmentation"] or {}).get("status") == "running"  # noqa: E731
        poll(client, first, segmenting, logs, "segmenting")

        # Another image (not a result-cache hit), uploaded while the first study's segmentation runs.
        second = upload(client, radiograph_jpeg, "chest.jpg").json()["id"]
        findings = poll(client, second, lambda s: s["status"] in ("done", "failed"), logs, "analysed")
        first_now = client.get(f"/api/studies/{first}/").json()

        assert findings["status"] == "done", findings["message"]
        assert len(findings["findings"]) == 14
        assert first_now["segmentation"]["status"] == "running"
        # The slow run is real and ends; the second study's analysers follow it on their worker.
        for study_id in (first, second):
            finished = wait_until_finished(client, study_id, logs)
            assert finished["segmentation"]["status"] == "done", finished["segmentation"]
            run = AnalyserRun.objects.get(study_id=study_id, kind="segmentation")
            assert run.card["input_size"] == SLOW_SEGMENTATION_INPUT
    # Each worker process built its own role's networks when it started (studies.tasks), no other's.
    findings_log, analysers_log = (logs.paths[role].read_text() for role in ("findings", "analysers"))
    assert "Analysers ready: segmentation, screener" in analysers_log and " ready on " not in analysers_log
    assert " ready on " in findings_log and "Analysers ready" not in findings_log


# The reconciler's queued deadline (CXR_QUEUED_DEADLINE_SECONDS, 600 s by default) is far above
# this, and no beat runs here: a study enqueued before its row was committed would never be found.
PACS_ANALYSIS_SECONDS = 60


def test_an_image_the_dicom_listener_receives_is_analysed_by_the_worker_within_seconds(
    celery_worker,
    listener,  # noqa: F811 (the imported fixture)
    service_account,  # noqa: F811 (the imported fixture)
):
    sent = storescu(listener, DICOM_DIR / "siim-sample.dcm")
    assert sent.returncode == 0, sent.stderr
    study = Study.objects.get(owner=service_account)
    deadline = time.monotonic() + PACS_ANALYSIS_SECONDS
    while study.status not in (StudyStatus.DONE, StudyStatus.FAILED) and time.monotonic() < deadline:
        time.sleep(0.5)
        study.refresh_from_db()
    assert study.status == StudyStatus.DONE, f"{study.status} {study.message}\n{celery_worker.read_text()}"
    assert study.requeues == 0 and study.finished_at is not None


def kill_pool_process(worker: subprocess.Popen) -> None:
    """SIGKILL the worker's pool process (the one running the task), as the kernel's OOM killer
    would; the worker's main process stays, and forks a new pool process."""
    (pool,) = psutil.Process(worker.pid).children()
    pool.kill()


@pytest.mark.parametrize("kind", ["analyser_run", "explanation"])
def test_a_job_whose_worker_process_is_killed_mid_task_ends_done_when_its_task_comes_back(
    kind,
    slow_segmentation_weights,
    analysed_study,
    media_root,
    tmp_path,
    clinician,
    client_for,
    settings,
):
    """A real worker, killed mid-run: Celery gives the task back (late acknowledgement, rejected on
    a lost worker), the redelivered task takes its own claim back, and the job ends done, claimed
    twice. The study kind's own kill is in test_faults (the whole service under load)."""
    client = client_for(clinician)
    study_id = analysed_study.id
    role = "analysers" if kind == "analyser_run" else "findings"
    env = worker_environment(media_root, CXR_SEGMENTATION_WEIGHTS=str(slow_segmentation_weights))
    log = tmp_path / f"worker-{role}.log"
    with worker_process(role, log, env) as worker:
        if kind == "analyser_run":
            # The fixture ran the analysers here; run the (slow) segmentation again on the worker.
            job = AnalyserRun.objects.get(study_id=study_id, kind="segmentation")
            AnalyserRun.objects.filter(pk=job.pk).update(status=StudyStatus.QUEUED, attempts=0)
            enqueue_analysers(study_id)
        else:
            label = analysed_study.findings.first().label
            # Occlusion: seconds of the real network on a CPU, long enough to be killed in.
            answer = client.post(f"/api/studies/{study_id}/findings/{label}/explanations/occlusion/")
            assert answer.status_code == 202, answer.content
            job = Explanation.objects.get(study_id=study_id, label=label, method="occlusion")
        model = type(job)
        deadline = time.monotonic() + ANALYSIS_SECONDS
        while model.objects.get(pk=job.pk).status != StudyStatus.RUNNING:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        kill_pool_process(worker)
        while (job := model.objects.get(pk=job.pk)).status not in (StudyStatus.DONE, StudyStatus.FAILED):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
    assert job.status == StudyStatus.DONE, f"{job.message}\n{log.read_text()}"
    assert job.attempts == 2 and job.requeues == 0


@contextmanager
def slow_pacs(ae_title: str, seconds_per_object: float) -> Iterator[int]:
    """A PACS (pynetdicom's storage SCP) that takes ``seconds_per_object`` to store each object, on
    a free loopback port; it keeps nothing."""

    def store_slowly(event: evt.Event) -> int:
        time.sleep(seconds_per_object)
        return 0x0000

    entity = AE(ae_title=ae_title)
    entity.supported_contexts = AllStoragePresentationContexts
    port = free_port()
    server = entity.start_server(
        ("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_STORE, store_slowly)]
    )
    try:
        yield port
    finally:
        server.shutdown()


def test_a_filing_whose_worker_process_is_killed_mid_send_ends_sent_when_its_task_comes_back(
    media_root, tmp_path, settings, django_capture_on_commit_callbacks
):
    """The fourth job kind under a real kill: the worker sends a received study's results to a PACS
    slow enough to be killed in, and the redelivered task takes the filing back and sends it."""
    key = Fernet.generate_key().decode()
    with slow_pacs("SLOW_PACS", seconds_per_object=0.5) as port:
        destination = f"SLOW_PACS@127.0.0.1:{port}"
        # The classifier alone: with no analyser runs to wait for, the study is filed once analysed.
        env = worker_environment(
            media_root, CXR_ORIGIN_KEY=key, CXR_PACS_DESTINATION=destination, CXR_ANALYSERS=""
        )
        log = tmp_path / "worker-findings.log"
        settings.CXR_ORIGIN_KEY, settings.CXR_PACS_DESTINATION = key, destination
        settings.CXR_ANALYSERS = ()
        with worker_process("findings", log, env) as worker:
            with django_capture_on_commit_callbacks(execute=True):
                study = received_image_store(
                    received=pacs_received((DICOM_DIR / "siim-sample.dcm").read_bytes()),
                    owner=UserFactory(),
                    protocol=ReceivedProtocol.STOW_RS,
                )
            deadline = time.monotonic() + ANALYSIS_SECONDS
            while ReceivedImage.objects.get(study=study).filing_status != FilingStatus.SENDING:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            kill_pool_process(worker)
            while (received := ReceivedImage.objects.get(study=study)).filing_status not in (
                FilingStatus.SENT,
                FilingStatus.NOT_SENT,
            ):
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
    assert received.filing_status == FilingStatus.SENT, f"{received.message}\n{log.read_text()}"
    assert received.attempts == 2 and received.requeues == 0
