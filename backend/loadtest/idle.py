"""Studies on an idle service: one upload at a time, each waited for to its last analyser.

What a clinician alone on the service sees: upload to findings, and upload to every analyser done
(the segmentation, the screener), each study uploaded once the one before ended.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from loadtest.clinicians import distinct_radiographs, sign_in, upload
from loadtest.faults import END_SECONDS, STUDIES_QUERY, StudyRow, ended, median
from loadtest.service import PASSWORD, LiveService


@dataclass
class IdleReport:
    studies: int
    findings_median_seconds: float
    analysers_median_seconds: float
    findings_seconds: list[float]
    analysers_seconds: list[float]


def run_idle(service: LiveService, *, sources: list[Path], count: int, seed: int = 7) -> IdleReport:
    token = sign_in(service.base_url, service.usernames[0], PASSWORD)
    findings, analysers = [], []
    for index, content in enumerate(distinct_radiographs(sources, count, seed=seed)):
        answer = upload(service.base_url, token, f"idle-{index}.png", content)
        if answer.status != 202:
            raise RuntimeError(f"An idle upload was answered {answer.status}: {answer.body[:200]!r}")
        row = wait_until_ended(service, answer.json()["id"])
        if row.status != "done" or row.seconds_to_analysers is None:
            raise RuntimeError(f"An idle study ended {row.status}: {row.message}")
        findings.append(round(float(row.seconds_to_end), 3))
        analysers.append(round(float(row.seconds_to_analysers), 3))
    return IdleReport(len(findings), median(findings), median(analysers), findings, analysers)


def wait_until_ended(service: LiveService, study_id: str) -> StudyRow:
    deadline = time.monotonic() + END_SECONDS
    query = f"SELECT * FROM ({STUDIES_QUERY}) rows WHERE id = %s"
    while time.monotonic() < deadline:
        rows = service.query(query, study_id)
        if rows and ended(row := StudyRow(*rows[0][1:])):
            return row
        time.sleep(0.02)
    raise RuntimeError(f"Study {study_id} did not end in {END_SECONDS} s")
