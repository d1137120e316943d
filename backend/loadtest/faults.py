"""Waves of uploads, each under one fault, and what became of every study.

A wave: clinicians sign in, then upload their radiographs at once (each clinician one after the
other), retrying when told to (503, 429); meanwhile the fault strikes. Then every study the wave
created must end, done or failed with a message, within a bound. Counted: studies sent, accepted,
done, failed with a message, stuck (not ended in time: must be 0), lost (accepted, but no study:
must be 0), and any HTML error page (must be 0).
"""

from __future__ import annotations

import os
import signal
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from loadtest.clinicians import UploadLog, distinct_radiographs, sign_in, upload, upload_with_retries
from loadtest.service import PASSWORD, LiveService

END_SECONDS = 150
ENDED = ("done", "failed")


class StudyRow(NamedTuple):
    status: str
    message: str
    seconds_to_end: float | None  # from upload to done or failed (seconds, as PostgreSQL computes it)
    created: float  # epoch seconds
    finished: float | None
    requeues: int
    # From upload to the last of its analyser runs ended (None: no run ended yet), and runs not ended.
    seconds_to_analysers: float | None
    runs_pending: int


# Every study, with its analyser runs (studies.analyser_runs), as StudyRow's fields after its id.
STUDIES_QUERY = (
    "SELECT s.id::text, s.status, s.message, extract(epoch FROM s.finished_at - s.created_at), "
    "extract(epoch FROM s.created_at), extract(epoch FROM s.finished_at), s.requeues, "
    "extract(epoch FROM max(r.finished_at) - s.created_at), "
    "count(r.id) FILTER (WHERE r.status NOT IN ('done', 'failed')) "
    "FROM studies_study s LEFT JOIN studies_analyserrun r ON r.study_id = s.id GROUP BY s.id"
)


@dataclass
class FaultContext:
    service: LiveService
    token: str
    spare_image: bytes
    uploads_finished: threading.Event
    evidence: dict[str, object] = field(default_factory=dict)


Fault = Callable[[FaultContext], None]


@dataclass
class WaveReport:
    name: str
    sent: int
    accepted: int
    # Studies the wave created: more than accepted when an upload was stored but its answer was
    # lost (a connection terminated after the commit) and the client tried again.
    studies: int
    done: int
    failed_with_message: int
    failed_without_message: int
    stuck: int
    # Studies with an analyser run still queued or running at the end (the findings may be done).
    analysers_unfinished: int
    lost: int
    given_up: int
    unavailable_answers: int
    html_answers: int
    failure_messages: list[str]
    requeued_by_reconciler: int
    studies_per_minute: float
    median_seconds: float
    p95_seconds: float
    # Upload to every analyser's run ended, for the studies done.
    analysers_median_seconds: float
    analysers_p95_seconds: float
    evidence: dict[str, object]

    @property
    def survived(self) -> bool:
        return (
            self.stuck == 0 and self.lost == 0 and self.html_answers == 0 and self.failed_without_message == 0
        )


def run_wave(
    service: LiveService,
    *,
    name: str,
    images_each: int,
    sources: list[Path],
    fault: Fault | None = None,
    seed: int = 0,
) -> WaveReport:
    before = {row[0] for row in service.query("SELECT id::text FROM studies_study")}
    tokens = [sign_in(service.base_url, username, PASSWORD) for username in service.usernames]
    images = distinct_radiographs(sources, len(tokens) * images_each + 1, seed=seed)
    logs = [UploadLog() for _ in tokens]
    context = FaultContext(service, tokens[0], images[-1], threading.Event())

    def clinician(index: int) -> None:
        for number in range(images_each):
            content = images[index * images_each + number]
            upload_with_retries(
                service.base_url, tokens[index], f"{name}-{index}-{number}.png", content, logs[index]
            )

    fault_thread = threading.Thread(target=fault, args=(context,)) if fault else None
    if fault_thread:
        fault_thread.start()
    threads = [threading.Thread(target=clinician, args=(index,)) for index in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=END_SECONDS)
    context.uploads_finished.set()
    if fault_thread:
        fault_thread.join(timeout=END_SECONDS)

    accepted = {study_id for log in logs for study_id in log.accepted}
    deadline = time.monotonic() + END_SECONDS
    while True:
        rows = {row[0]: StudyRow(*row[1:]) for row in service.query(STUDIES_QUERY) if row[0] not in before}
        if all(ended(row) for row in rows.values()) or time.monotonic() > deadline:
            break
        time.sleep(1)
    return summarise(name, logs, accepted, rows, images_each * len(tokens), context.evidence)


def summarise(
    name: str, logs: list[UploadLog], accepted: set[str], rows: dict[str, StudyRow], sent: int, evidence: dict
) -> WaveReport:
    done = [row for row in rows.values() if row.status == "done"]
    failed = [row for row in rows.values() if row.status == "failed"]
    seconds = sorted(float(row.seconds_to_end) for row in done)
    analysers = sorted(
        float(row.seconds_to_analysers) for row in done if row.seconds_to_analysers is not None
    )
    if done:
        span = max(float(row.finished) for row in done) - min(float(row.created) for row in done)
        per_minute = len(done) / max(span, 1e-6) * 60
    else:
        per_minute = 0.0
    answers = [answer for log in logs for answer in log.answers]
    return WaveReport(
        name=name,
        sent=sent,
        accepted=len(accepted),
        studies=len(rows),
        done=len(done),
        failed_with_message=sum(1 for row in failed if row.message),
        failed_without_message=sum(1 for row in failed if not row.message),
        stuck=sum(1 for row in rows.values() if row.status not in ENDED),
        analysers_unfinished=sum(1 for row in rows.values() if row.runs_pending),
        lost=len(accepted - rows.keys()),
        given_up=sum(log.given_up for log in logs),
        unavailable_answers=sum(1 for answer in answers if answer.status == 503),
        html_answers=sum(1 for answer in answers if answer.is_html),
        failure_messages=sorted({row.message for row in failed if row.message}),
        requeued_by_reconciler=sum(row.requeues for row in rows.values()),
        studies_per_minute=round(per_minute, 1),
        median_seconds=median(seconds),
        p95_seconds=p95(seconds),
        analysers_median_seconds=median(analysers),
        analysers_p95_seconds=p95(analysers),
        evidence=evidence,
    )


def ended(row: StudyRow) -> bool:
    """Whether a study and every one of its analyser runs are done or failed."""
    return row.status in ENDED and row.runs_pending == 0


def median(seconds: list[float]) -> float:
    return round(statistics.median(seconds), 2) if seconds else 0.0


def p95(seconds: list[float]) -> float:
    """The 95th percentile of sorted ``seconds``."""
    return round(seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))], 2) if seconds else 0.0


def wait_for_a_running_study(service: LiveService, seconds: float = 60) -> str | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        running = service.query("SELECT id::text FROM studies_study WHERE status = 'running' LIMIT 1")
        if running:
            return running[0][0]
        time.sleep(0.05)
    return None


def kill_worker_pool_process(context: FaultContext) -> None:
    """SIGKILL the worker's pool process while it analyses a study."""
    study = wait_for_a_running_study(context.service)
    pool = context.service.pool_processes()
    for pid in pool:
        os.kill(pid, signal.SIGKILL)
    context.evidence.update(running_study=study, killed_pool_processes=pool)


def restart_redis(context: FaultContext) -> None:
    """Stop the service's Redis (its broker and cache) with every study of the wave waiting in its
    queue, upload during the outage, then start it again on the same port, empty: every message is
    lost, so only the reconciler can bring those studies to an end.

    The worker is stopped first (as for a deployment) and started again after the restart, so no
    message is already in a worker's hands.
    """
    service = context.service
    service.stop_worker()
    context.uploads_finished.wait(timeout=120)
    context.evidence["queued_when_redis_stopped"] = service.query(
        "SELECT count(*) FROM studies_study WHERE status = 'queued'"
    )[0][0]
    service.redis.stop()
    studies_before = service.query("SELECT count(*) FROM studies_study")[0][0]
    files_before = media_file_count(service)
    answer = upload(service.base_url, context.token, "during-outage.png", context.spare_image)
    context.evidence.update(
        outage_upload_status=answer.status,
        outage_upload_json=answer.json() if answer.content_type == "application/json" else None,
        outage_upload_stored_nothing=(
            service.query("SELECT count(*) FROM studies_study")[0][0] == studies_before
            and media_file_count(service) == files_before
        ),
    )
    time.sleep(2)
    service.redis.start()
    service.start_worker(service.worker_concurrency)


def media_file_count(service: LiveService) -> int:
    return sum(1 for path in (service.work / "media").rglob("*") if path.is_file())


def terminate_web_database_connections(context: FaultContext) -> None:
    """pg_terminate_backend on the web processes' sessions, every 0.2 s for 15 s while uploads run."""
    terminated = 0
    deadline = time.monotonic() + 15
    while not context.uploads_finished.is_set() and time.monotonic() < deadline:
        terminated += sum(
            1
            for (ended,) in context.service.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = 'cxr-web'"
            )
            if ended
        )
        time.sleep(0.2)
    context.evidence["terminated_web_sessions"] = terminated


FAULTS: dict[str, Fault] = {
    "worker pool process SIGKILLed mid-analysis": kill_worker_pool_process,
    "Redis (broker and cache) stopped with the queue full, restarted empty": restart_redis,
    "web process's PostgreSQL sessions terminated mid-request": terminate_web_database_connections,
}
