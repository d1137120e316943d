"""How each shadow candidate compares with the active model and with clinicians, over the live studies
it ran on (studies.shadow): here, above studies and feedback, since deployments names neither.

Per finding: how often the candidate's verdict (above or below its threshold) is the active model's,
the mean absolute difference of their probabilities, and, where a clinician agreed or disagreed with
the active finding, how often the candidate's verdict is the one the clinician's answer implies.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from deployments.models import Deployment
from feedback.models import FindingFeedback, Verdict
from studies.models import Finding, ShadowResult


@dataclass
class Tally:
    # Findings compared: per finding, one per study; overall, one per study and finding.
    compared: int = 0
    same_verdict: int = 0
    absolute_difference: float = 0.0
    clinician_answers: int = 0
    clinician_agreed: int = 0

    def add(
        self, *, same: bool, difference: float, clinician_truth: list[bool], candidate_positive: bool
    ) -> None:
        self.compared += 1
        self.same_verdict += same
        self.absolute_difference += difference
        self.clinician_answers += len(clinician_truth)
        self.clinician_agreed += sum(truth == candidate_positive for truth in clinician_truth)

    def figures(self) -> dict[str, Any]:
        return {
            "compared": self.compared,
            "agreement_with_active": self.same_verdict / self.compared if self.compared else None,
            "mean_absolute_difference": self.absolute_difference / self.compared if self.compared else None,
            "clinician_answers": self.clinician_answers,
            "agreement_with_clinicians": (
                self.clinician_agreed / self.clinician_answers if self.clinician_answers else None
            ),
        }


@dataclass
class CandidateTally:
    deployment: Deployment
    studies: set[object] = field(default_factory=set)
    overall: Tally = field(default_factory=Tally)
    findings: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))


def shadow_comparison() -> list[dict[str, Any]]:
    """One entry per deployment that ever ran in shadow, newest first."""
    results = list(
        ShadowResult.objects.select_related("deployment__model_version", "deployment__profile").order_by(
            "-deployment__created_at", "study_id"
        )
    )
    study_ids = {result.study_id for result in results}
    active = {
        (finding.study_id, finding.label): finding
        for finding in Finding.objects.filter(study_id__in=study_ids)
    }
    truths = clinician_truths(
        FindingFeedback.objects.filter(study_id__in=study_ids, verdict__in=[Verdict.AGREE, Verdict.DISAGREE]),
        active,
    )
    candidates: dict[int, CandidateTally] = {}
    for result in results:
        tally = candidates.setdefault(result.deployment_id, CandidateTally(deployment=result.deployment))
        tally.studies.add(result.study_id)
        for finding in result.findings:
            current = active.get((result.study_id, finding["label"]))
            if current is None:
                continue
            figures = {
                "same": finding["positive"] == current.positive,
                "difference": abs(finding["probability"] - current.probability),
                "clinician_truth": truths.get((result.study_id, finding["label"]), []),
                "candidate_positive": finding["positive"],
            }
            tally.overall.add(**figures)
            tally.findings[finding["label"]].add(**figures)
    return [
        {
            "deployment": tally.deployment,
            "studies": len(tally.studies),
            "overall": tally.overall.figures(),
            "findings": [
                {"label": label, **tally.findings[label].figures()} for label in sorted(tally.findings)
            ],
        }
        for tally in candidates.values()
    ]


def clinician_truths(
    answers: Iterable[FindingFeedback], active: dict[tuple[object, str], Finding]
) -> dict[tuple[object, str], list[bool]]:
    """Each answered finding's verdicts as clinicians see them: agreeing with the active model's
    verdict keeps it, disagreeing turns it over."""
    truths: dict[tuple[object, str], list[bool]] = defaultdict(list)
    for answer in answers:
        finding = active.get((answer.study_id, answer.label))
        if finding is not None:
            truths[(answer.study_id, answer.label)].append(
                finding.positive if answer.verdict == Verdict.AGREE else not finding.positive
            )
    return truths
