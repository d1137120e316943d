"""Reads on studies. A clinician reads only their own studies; an admin reads all."""

import datetime
import uuid

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone

from accounts.models import User
from common.dates import day_end, day_start
from common.errors import NotFoundError
from common.jobs import abandoned_running, default_limits
from ml.analyser import AnalyserResult, read_result
from ml.analysers import analyser_class
from ml.screener.analyser import SCREENER
from studies.models import AnalyserRun, Finding, ImageFinding, ImageKind, Study, StudyImage, StudyStatus
from studies.triage import lifted_since, triage_order

# Worklist orders: newest first (the default), oldest first, or triage: the most suspicious finding
# first, by calibrated score (comparable across findings whose thresholds differ a hundredfold), or
# by raw probability; or by the screener's probability of an abnormality (ml.analysers). Studies
# without the number sorted by come last. Every triage order first lifts the studies waiting unread
# past the limit (studies.triage), so none starves.
STUDY_ORDERINGS = ("-created_at", "created_at", "-top_score", "-top_probability", "-screener_probability")
# The annotation each triage order sorts by.
TRIAGE_SCORES = {
    "-top_score": "top_score",
    "-top_probability": "max_probability",
    "-screener_probability": "screener_probability",
}
ANY_POSITIVE = "any"


def studies_pending_count(*, owner: User) -> int:
    """Studies of ``owner`` waiting for analysis; failed and abandoned ones do not wait."""
    pending = Study.objects.filter(owner=owner, status__in=[StudyStatus.QUEUED, StudyStatus.RUNNING])
    return pending.exclude(abandoned_running(timezone.now(), default_limits())).count()


def studies_visible_to(*, user: User) -> QuerySet[Study]:
    return Study.objects.all() if user.is_staff else Study.objects.filter(owner=user)


def study_list(
    *,
    user: User,
    status: str | None = None,
    positive: str | None = None,
    created_after: datetime.date | None = None,
    created_before: datetime.date | None = None,
    ordering: str = "-created_at",
    now: datetime.datetime | None = None,
) -> QuerySet[Study]:
    """The worklist. `positive` keeps studies with a positive finding of that label (or any, "any");
    dates are whole days, both ends included. Each study carries its top finding, positive labels and
    when it was lifted by triage (``triage_lifted_since``, as of ``now``: the present by default)."""
    studies = studies_visible_to(user=user).select_related("key_image", "owner")
    if status:
        studies = studies.filter(status=status)
    if positive:
        positives = Finding.objects.filter(study=OuterRef("pk"), positive=True)
        if positive != ANY_POSITIVE:
            positives = positives.filter(label=positive)
        studies = studies.filter(Exists(positives))
    if created_after:
        studies = studies.filter(created_at__gte=day_start(created_after))
    if created_before:
        studies = studies.filter(created_at__lt=day_end(created_before))
    top = Finding.objects.filter(study=OuterRef("pk")).order_by("-calibrated_score", "label")
    studies = studies.annotate(
        top_score=Subquery(top.values("calibrated_score")[:1]),
        top_probability=Subquery(top.values("probability")[:1]),
        top_label=Subquery(top.values("label")[:1]),
        max_probability=Subquery(
            Finding.objects.filter(study=OuterRef("pk")).order_by("-probability").values("probability")[:1]
        ),
        image_count=Count("images"),
        triage_lifted_since=lifted_since(now=now),
        screener_probability=Subquery(
            AnalyserRun.objects.filter(study=OuterRef("pk"), kind=SCREENER, status=StudyStatus.DONE).values(
                "score"
            )[:1]
        ),
    ).prefetch_related(
        Prefetch(
            "findings",
            queryset=Finding.objects.filter(positive=True).order_by("-probability"),
            to_attr="positive_findings",
        ),
        "analyser_runs",
    )
    if ordering in TRIAGE_SCORES:
        return studies.order_by(*triage_order(TRIAGE_SCORES[ordering]))
    if ordering == "created_at":
        return studies.order_by("created_at", "pk")
    return studies.order_by("-created_at", "-pk")


def study_get(*, user: User, study_id: uuid.UUID) -> Study:
    # Someone else's study answers exactly like a missing one, so ids cannot be probed.
    study = (
        studies_visible_to(user=user)
        .select_related("key_image", "owner")
        .prefetch_related(
            "findings",
            "analyser_runs",
            Prefetch("images", queryset=StudyImage.objects.prefetch_related("findings")),
        )
        .filter(pk=study_id)
        .first()
    )
    if study is None:
        raise NotFoundError("Study not found.", extra={"id": str(study_id)})
    return study


def study_prior_get(*, user: User, study: Study) -> Study | None:
    """The patient's most recent analysed radiograph study before ``study``, among those ``user``
    may see (a clinician's own: another's studies of the patient are never named), or None.

    "Before" is by upload (or arrival from the PACS): the files' own dates are not kept.
    """
    if not study.patient_key:
        return None
    return (
        studies_visible_to(user=user)
        .filter(
            patient_key=study.patient_key,
            created_at__lt=study.created_at,
            status=StudyStatus.DONE,
            key_image__kind=ImageKind.RADIOGRAPH,
        )
        .select_related("key_image")
        .order_by("-created_at")
        .first()
    )


def study_image_get(*, study: Study, position: int) -> StudyImage:
    image = study.images.filter(position=position).first()
    if image is None:
        raise NotFoundError(f"Study has no image {position}.", extra={"position": position})
    return image


def image_finding_get(*, image: StudyImage, label: str) -> ImageFinding:
    finding = image.findings.filter(label=label).first()
    if finding is None:
        raise NotFoundError(
            f"Image {image.position} has no finding {label!r}.",
            extra={"position": image.position, "label": label},
        )
    return finding


def finding_get(*, study: Study, label: str) -> Finding:
    finding = study.findings.filter(label=label).first()
    if finding is None:
        raise NotFoundError(f"Study has no finding {label!r}.", extra={"label": label})
    return finding


def analyser_run_get(*, study: Study, kind: str) -> AnalyserRun:
    run = study.analyser_runs.filter(kind=kind).first()
    if run is None:
        raise NotFoundError(f"Study has no {kind} result.", extra={"analyser": kind})
    return run


def analyser_run_result(run: AnalyserRun) -> AnalyserResult | None:
    """A finished run's result, typed by its analyser's own class (ml.analysers), else None."""
    if run.status != StudyStatus.DONE or not run.result or not run.card:
        return None
    return read_result(analyser_class(run.kind), run.result, run.card)
