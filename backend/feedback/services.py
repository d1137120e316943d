"""Writes on feedback."""

from django.db import transaction

from accounts.models import User
from common.errors import DomainError
from feedback.models import FindingFeedback, Verdict
from studies.models import Study, StudyStatus


@transaction.atomic
def feedback_set(
    *, study: Study, user: User, label: str, verdict: Verdict, note: str = ""
) -> FindingFeedback:
    """Store (or replace) the user's answer on one finding of a study they can see."""
    if study.status != StudyStatus.DONE:
        raise DomainError("Feedback can be given once the analysis is done.", extra={"status": study.status})
    if not study.findings.filter(label=label).exists():
        raise DomainError(f"This study has no finding {label!r}.", extra={"field": "label", "label": label})
    feedback, _created = FindingFeedback.objects.update_or_create(
        study=study, label=label, user=user, defaults={"verdict": verdict, "note": note.strip()}
    )
    return feedback
