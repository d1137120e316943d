"""Reads on feedback: a user's answers on a study, and agreement per finding for admins."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from accounts.models import User
from feedback.models import FindingFeedback, Verdict
from studies.models import Study


def feedback_list(*, study: Study, user: User) -> QuerySet[FindingFeedback]:
    return FindingFeedback.objects.filter(study=study, user=user).order_by("label")


@dataclass(frozen=True)
class FindingAgreement:
    label: str
    agree: int
    disagree: int
    unsure: int

    @property
    def answered(self) -> int:
        return self.agree + self.disagree + self.unsure

    @property
    def agreement_rate(self) -> float | None:
        """Agreements among the answers that took a side; unsure answers count for neither."""
        decided = self.agree + self.disagree
        return self.agree / decided if decided else None


def feedback_agreement(*, labels: list[str], model_name: str, model_version: str) -> list[FindingAgreement]:
    """Counts of each answer per finding, over studies analysed by this model (name and version)."""
    counts = (
        FindingFeedback.objects.filter(
            study__model_card__name=model_name, study__model_card__version=model_version
        )
        .values("label")
        .annotate(
            agree=Count("id", filter=Q(verdict=Verdict.AGREE)),
            disagree=Count("id", filter=Q(verdict=Verdict.DISAGREE)),
            unsure=Count("id", filter=Q(verdict=Verdict.UNSURE)),
        )
    )
    by_label = {row["label"]: row for row in counts}
    return [
        FindingAgreement(
            label=label,
            agree=by_label.get(label, {}).get("agree", 0),
            disagree=by_label.get(label, {}).get("disagree", 0),
            unsure=by_label.get(label, {}).get("unsure", 0),
        )
        for label in labels
    ]
