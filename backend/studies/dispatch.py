"""Hands a committed study to whatever runs analyses in this run mode.

With a broker (REDIS_URL set) the study id goes to the Celery queue. In embedded mode (a bare
machine) one background thread of this process runs analyses in order, so an upload still answers at
once and the web app shows the study move from queued to done, as it would with a worker; a second
thread runs the analysers beside the classifier, as their own worker would, so a study's findings
never wait behind another study's analysers.
"""

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from django.conf import settings
from django.db import close_old_connections

from studies.analyser_runs import analyser_runs_execute
from studies.analysis import studies_analyze
from studies.explanations import explanation_compute
from studies.tasks import analyze_study, explain_finding, run_analysers

logger = logging.getLogger(__name__)

# The one analysis thread of an embedded process claims every study under this name.
EMBEDDED_CLAIMANT = "embedded"


def enqueue_analysis(study_id: uuid.UUID) -> None:
    if settings.CXR_EMBEDDED_TASKS:
        embedded_executor().submit(run_embedded, study_analyze_embedded, study_id)
    else:
        analyze_study.delay(str(study_id))


def enqueue_analysers(study_id: uuid.UUID) -> None:
    """Hand a study's queued analyser runs (studies.analyser_runs) to whatever runs analyses."""
    if settings.CXR_EMBEDDED_TASKS:
        embedded_analysers_executor().submit(run_embedded, analyser_runs_execute, [study_id])
    else:
        run_analysers.delay(str(study_id))


def enqueue_explanation(explanation_id: int) -> None:
    if settings.CXR_EMBEDDED_TASKS:
        # The same one thread: an explanation waits behind the analyses queued before it.
        embedded_executor().submit(run_embedded, explanation_compute, explanation_id=explanation_id)
    else:
        explain_finding.delay(explanation_id)


def study_analyze_embedded(study_id: uuid.UUID) -> None:
    for analysed in studies_analyze(study_id=study_id, claimant=EMBEDDED_CLAIMANT):
        enqueue_analysers(analysed)


@cache
def embedded_executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxr-analysis")


@cache
def embedded_analysers_executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxr-analysers")


def run_embedded(work: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    try:
        work(*args, **kwargs)
    except Exception:
        logger.exception("Embedded %s(%s, %s) failed", work.__name__, args, kwargs)
    finally:
        close_old_connections()
