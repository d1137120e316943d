"""Hands a committed study to whatever runs analyses in this run mode.

With a broker (REDIS_URL set) the study id goes to the Celery queue. In embedded mode (a bare
machine) one background thread of this process runs analyses in order, so an upload still answers at
once and the web app shows the study move from queued to done, as it would with a worker.
"""

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from django.conf import settings
from django.db import close_old_connections

from studies.analysis import studies_analyze
from studies.explanations import explanation_compute
from studies.tasks import analyze_study, explain_finding

logger = logging.getLogger(__name__)

# The one analysis thread of an embedded process claims every study under this name.
EMBEDDED_CLAIMANT = "embedded"


def enqueue_analysis(study_id: uuid.UUID) -> None:
    if settings.CXR_EMBEDDED_TASKS:
        embedded_executor().submit(run_embedded_analysis, study_id)
    else:
        analyze_study.delay(str(study_id))


def enqueue_explanation(explanation_id: int) -> None:
    if settings.CXR_EMBEDDED_TASKS:
        # The same one thread: an explanation waits behind the analyses queued before it.
        embedded_executor().submit(run_embedded_explanation, explanation_id)
    else:
        explain_finding.delay(explanation_id)


@cache
def embedded_executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxr-analysis")


def run_embedded_analysis(study_id: uuid.UUID) -> None:
    try:
        studies_analyze(study_id=study_id, claimant=EMBEDDED_CLAIMANT)
    except Exception:
        logger.exception("Embedded analysis of study %s failed", study_id)
    finally:
        close_old_connections()


def run_embedded_explanation(explanation_id: int) -> None:
    try:
        explanation_compute(explanation_id=explanation_id)
    except Exception:
        logger.exception("Embedded explanation %s failed", explanation_id)
    finally:
        close_old_connections()
