"""What a finished study's exports carry beside its findings: each analyser's typed result and card.

Exports loop over the study's finished analyser runs (ml.analysers' kinds, read back as ml's typed
results), so a new analyser reaches the SR and FHIR by its kind's entry in their tables.
"""

from dataclasses import dataclass
from typing import Any, TypeVar

from ml.analyser import AnalyserResult
from pacs.codes import NOT_A_DIAGNOSIS, UNTRAINED_WARNING
from studies.models import Study, StudyStatus
from studies.selectors import analyser_run_result


@dataclass(frozen=True)
class AnalyserOutcome:
    kind: str
    card: dict[str, Any]
    result: AnalyserResult


Result = TypeVar("Result")


def typed_result(outcome: AnalyserOutcome, result_type: type[Result]) -> Result:
    """The outcome's result as its kind's class; any other is a programming error (a table entry
    for the wrong kind)."""
    if not isinstance(outcome.result, result_type):
        raise TypeError(
            f"A {outcome.kind} outcome holds a {result_type.__name__}, not {type(outcome.result).__name__}."
        )
    return outcome.result


def study_analyser_outcomes(study: Study) -> list[AnalyserOutcome]:
    """The study's finished analyser runs (a CT study's included), in kind order; failed or
    unfinished ones are left out, as the study page shows them without a result."""
    outcomes = []
    for run in study.analyser_runs.filter(status=StudyStatus.DONE).order_by("kind"):
        result = analyser_run_result(run)
        if result is not None and run.card is not None:
            outcomes.append(AnalyserOutcome(kind=run.kind, card=run.card, result=result))
    return outcomes


def study_statements(study: Study) -> list[str]:
    """What every export of a study says of its results: decision support, and which of the
    models that made them (the study's own card, then each analyser's) are untrained."""
    cards = [study.model_card or {}, *(outcome.card for outcome in study_analyser_outcomes(study))]
    statements = [NOT_A_DIAGNOSIS]
    for card in dict((card.get("name"), card) for card in cards).values():
        if not card.get("trained"):
            statements.append(f"{card.get('name')}: {UNTRAINED_WARNING}")
    return statements
