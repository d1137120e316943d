"""The studies' kinds of background work (common.jobs), and handing them to whatever runs tasks.

Three kinds: a study's analysis (the classifier, or the CT analyser), its analyser runs beside the
classifier (one task per study, on the analysers' own queue) and an explanation asked for. Each is
registered with its task's name, so dispatch and the reconciler reach the task by name, never
through studies.tasks. In embedded mode (a bare machine) one thread of the web process runs the
analyses and explanations in order and a second the analyser runs, as their workers would, so a
study's findings never wait behind another study's analysers.
"""

import uuid

from common.jobs import JobKind, job_enqueue, job_kind_register
from studies.analyser_runs import analyser_runs_execute
from studies.analysis import studies_analyze
from studies.events import study_events_publish
from studies.explanations import explanation_compute
from studies.models import AnalyserRun, Explanation, Study

ANALYZE_STUDY = "studies.analyze_study"
RUN_ANALYSERS = "studies.run_analysers"
EXPLAIN_FINDING = "studies.explain_finding"

# The one analysis thread of an embedded process claims every study under this name.
EMBEDDED_CLAIMANT = "embedded"


def enqueue_analysis(study_id: uuid.UUID) -> None:
    job_enqueue(ANALYZE_STUDY, str(study_id))


def enqueue_analysers(study_id: uuid.UUID) -> None:
    """Hand a study's queued analyser runs (studies.analyser_runs) to whatever runs them."""
    job_enqueue(RUN_ANALYSERS, str(study_id))


def enqueue_explanation(explanation_id: int) -> None:
    job_enqueue(EXPLAIN_FINDING, explanation_id)


def study_analyze_embedded(study_id: str) -> None:
    for analysed in studies_analyze(study_id=uuid.UUID(study_id), claimant=EMBEDDED_CLAIMANT):
        enqueue_analysers(analysed)


def analyser_runs_execute_embedded(study_id: str) -> None:
    analyser_runs_execute([uuid.UUID(study_id)])


def explanation_compute_embedded(explanation_id: int) -> None:
    explanation_compute(explanation_id=explanation_id)


def analyser_runs_changed(run_ids: list[int]) -> None:
    study_events_publish(AnalyserRun.objects.filter(pk__in=run_ids).values_list("study_id", flat=True))


STUDY = JobKind(
    name="study",
    model=Study,
    task=ANALYZE_STUDY,
    task_args=lambda study: (str(study.pk),),
    embedded=study_analyze_embedded,
    thread="analysis",
    gave_up_waiting=(
        "This study waited too long for the analysis service (it may have been down or overloaded). "
        "Upload the image again; if this keeps happening, tell your administrator."
    ),
    gave_up_interrupted=(
        "The analysis was interrupted {attempts} times (the analysis worker stopped). "
        "Upload the image again; if this keeps happening, tell your administrator."
    ),
    changed=study_events_publish,
)
ANALYSER_RUN = JobKind(
    name="analyser_run",
    model=AnalyserRun,
    task=RUN_ANALYSERS,
    # A study's runs are one task: the reconciler sends one message for all its stuck runs.
    task_args=lambda run: (str(run.study_id),),
    embedded=analyser_runs_execute_embedded,
    thread="analysers",
    gave_up_waiting=(
        "This analyser waited too long for its worker (it may have been down or overloaded); "
        "the study's findings are not affected."
    ),
    gave_up_interrupted=(
        "This analyser was interrupted {attempts} times (its worker stopped); giving up. "
        "The study's findings are not affected."
    ),
    changed=analyser_runs_changed,
)
EXPLANATION = JobKind(
    name="explanation",
    model=Explanation,
    task=EXPLAIN_FINDING,
    task_args=lambda explanation: (explanation.pk,),
    embedded=explanation_compute_embedded,
    # The analyses' thread: an explanation waits behind the analyses queued before it.
    thread="analysis",
    gave_up_waiting="The explanation waited too long for the analysis service. Ask for it again.",
    gave_up_interrupted=(
        "The explanation was interrupted {attempts} times (the worker stopped). Ask for it again."
    ),
)
for kind in (STUDY, ANALYSER_RUN, EXPLANATION):
    job_kind_register(kind)
