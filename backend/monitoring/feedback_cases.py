"""The site's own studies as a labelled set: each finding a clinician gave a verdict on is labelled
by it, read against what the model said (agreeing with a positive finding, or disagreeing with a
negative one, makes it present).

Only analysed studies of the active model (its name and version) count, one case per study (its
key image, the image its findings are read from). Where clinicians answered one finding of a study
differently, the majority of agree against disagree decides; a tie, or only "unsure", leaves that
finding of that study unlabelled.
"""

from collections import defaultdict

from common.jobs import JobStatus
from feedback.models import FindingFeedback, Verdict
from ml.classifier.card import ModelCard
from monitoring.labelled_sets import LabelledCase
from studies.models import Finding, Study


def feedback_cases(*, card: ModelCard, with_images: bool) -> list[LabelledCase]:
    """The labelled cases (their key images read when ``with_images``, else empty bytes)."""
    answers = FindingFeedback.objects.filter(
        study__status=JobStatus.DONE,
        study__model_card__name=card.name,
        study__model_card__version=card.version,
        study__key_image__isnull=False,
        label__in=card.labels,
    ).values_list("study_id", "label", "verdict")
    votes: dict[tuple, int] = defaultdict(int)
    for study_id, label, verdict in answers:
        votes[(study_id, label)] += {Verdict.AGREE: 1, Verdict.DISAGREE: -1}.get(verdict, 0)
    decided = {key: vote > 0 for key, vote in votes.items() if vote != 0}
    said = dict(
        ((study_id, label), positive)
        for study_id, label, positive in Finding.objects.filter(
            study_id__in={study_id for study_id, _ in decided}
        ).values_list("study_id", "label", "positive")
    )
    labels: dict[object, dict[str, int]] = defaultdict(dict)
    for (study_id, label), agreed in sorted(decided.items(), key=lambda item: str(item[0])):
        if (study_id, label) in said:
            labels[study_id][label] = int(said[(study_id, label)] == agreed)
    if not with_images:
        return [
            LabelledCase(name=str(study_id), content=b"", labels=found) for study_id, found in labels.items()
        ]
    cases = []
    for study in Study.objects.filter(pk__in=labels).select_related("key_image").order_by("created_at"):
        with study.key_image.original_file.open("rb") as handle:
            cases.append(LabelledCase(name=str(study.pk), content=handle.read(), labels=labels[study.pk]))
    return cases
