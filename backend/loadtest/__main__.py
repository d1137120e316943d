"""``make loadtest``: N clinicians upload M distinct real radiographs each, at once, to the whole
service on loopback; prints studies per minute, upload-to-done median and p95, and errors. With
``--faults``, one more wave per fault (tests/test_faults.py runs the same) and a table of them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from loadtest.faults import FAULTS, WaveReport, run_wave
from loadtest.idle import run_idle
from loadtest.service import LiveService

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "cxr" / "nih"


def main() -> int:
    parser = argparse.ArgumentParser(prog="make loadtest", description=__doc__)
    parser.add_argument("--clinicians", type=int, default=3)
    parser.add_argument("--images", type=int, default=8, help="radiographs per clinician and wave")
    parser.add_argument("--worker-concurrency", type=int, default=1)
    parser.add_argument("--faults", action="store_true", help="also run a wave under each fault")
    parser.add_argument(
        "--idle",
        type=int,
        default=5,
        help="studies uploaded one at a time on the idle service (0: none)",
    )
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("CXR_DATA_DIR", DEFAULT_DATA.parent)) / "nih"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL URL to create the throwaway database from",
    )
    arguments = parser.parse_args()
    sources = sorted(arguments.data.glob("*.png"))
    if not sources:
        parser.error(f"no radiographs in {arguments.data}")

    with (
        tempfile.TemporaryDirectory(prefix="cxr-loadtest-") as work,
        LiveService.running(
            admin_database_url=arguments.database_url,
            work=Path(work),
            clinicians=arguments.clinicians,
            worker_concurrency=arguments.worker_concurrency,
        ) as service,
    ):
        # A first study loads the model in the worker; the figures are of a warm service.
        run_wave(service, name="warm-up", images_each=1, sources=sources[:1], seed=99)
        idle = run_idle(service, sources=sources, count=arguments.idle) if arguments.idle else None
        reports = [run_wave(service, name="load", images_each=arguments.images, sources=sources)]
        if arguments.faults:
            for seed, (name, fault) in enumerate(FAULTS.items(), start=1):
                reports.append(
                    run_wave(
                        service,
                        name=name,
                        images_each=arguments.images,
                        sources=sources,
                        fault=fault,
                        seed=seed,
                    )
                )
    print(machine())
    if idle is not None:
        print(
            f"idle service, {idle.studies} studies one at a time: upload to findings median "
            f"{idle.findings_median_seconds} s, upload to every analyser done median "
            f"{idle.analysers_median_seconds} s"
        )
    print_load(reports[0], arguments)
    if arguments.faults:
        print_faults(reports[1:])
    if idle is not None:
        print(json.dumps({"name": "idle", **asdict(idle)}))
    for report in reports:
        print(json.dumps(asdict(report)))
    return 0 if all(report.survived for report in reports) else 1


def machine() -> str:
    lines = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines()
    wanted = ("Model name", "CPU(s)", "Thread(s) per core")
    return "; ".join(" ".join(line.split()) for line in lines if line.split(":")[0].strip() in wanted)


def print_load(report: WaveReport, arguments: argparse.Namespace) -> None:
    print(
        f"{arguments.clinicians} clinicians x {arguments.images} radiographs, worker concurrency "
        f"{arguments.worker_concurrency}: {report.done}/{report.sent} done, "
        f"{report.studies_per_minute} studies/min, "
        f"upload to findings median {report.median_seconds} s, p95 {report.p95_seconds} s, "
        f"to every analyser done median {report.analysers_median_seconds} s, "
        f"p95 {report.analysers_p95_seconds} s; errors: "
        f"{report.failed_with_message + report.failed_without_message} failed, {report.given_up} refused, "
        f"{report.unavailable_answers} answers 503 (retried), {report.html_answers} HTML pages"
    )


def print_faults(reports: list[WaveReport]) -> None:
    columns = ["fault", "sent", "studies", "done", "failed with a message", "stuck", "lost"]
    columns += ["enqueued again by the reconciler", "503 (retried)", "HTML"]
    print("| " + " | ".join(columns) + " |")
    print("| --- |" + " ---: |" * (len(columns) - 1))
    for report in reports:
        cells = [report.name, report.sent, report.studies, report.done, report.failed_with_message]
        cells += [report.stuck, report.lost, report.requeued_by_reconciler, report.unavailable_answers]
        cells.append(report.html_answers)
        print("| " + " | ".join(str(cell) for cell in cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
