import factory

from accounts.models import User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"clinician{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@hospital.example")
    password = factory.django.Password(PASSWORD)


class AdminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    is_staff = True


class StudyFactory(factory.django.DjangoModelFactory):
    """A study row and its key image, without files; tests that need files write them (see
    tests/test_reports.py)."""

    class Meta:
        model = "studies.Study"
        # The key image's hook saves the study itself.
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)
    status = "done"
    model_card = factory.LazyFunction(
        lambda: {
            "name": "densenet121-chestxray14",
            "version": "0.1.0-untrained-seed0",
            "weights_sha256": None,
            "trained": False,
            "training_data": None,
            "validation": None,
        }
    )

    @factory.post_generation
    def key_image(study, create: bool, extracted: object, **image_fields: object) -> None:
        """``StudyFactory(key_image__original_filename=...)`` names the key image's fields."""
        from studies.models import StudyImage

        filename = image_fields.pop("original_filename", f"chest-{study.pk}.png")
        study.key_image = StudyImage.objects.create(
            study=study,
            position=0,
            original_filename=filename,
            content_type="image/png",
            image_sha256=f"{study.pk.int:064x}",
            width=1024,
            height=1024,
            original_file=f"studies/{filename}",
            display_file=f"studies/{filename}.display.png",
            **image_fields,
        )
        study.save(update_fields=["key_image"])


def add_findings(study, probabilities: dict[str, float], threshold: float = 0.5) -> None:
    """Give a study of one image findings with these probabilities (positive at or above the
    threshold): its key image's, and so the study's."""
    from ml.classifier.postprocess import calibrated_score, is_positive
    from studies.models import Finding, ImageFinding

    for model, owner in ((Finding, {"study": study}), (ImageFinding, {"image": study.key_image})):
        model.objects.bulk_create(
            model(
                **owner,
                label=label,
                probability=probability,
                threshold=threshold,
                positive=is_positive(probability, threshold),
                calibrated_score=calibrated_score(probability, threshold),
            )
            for label, probability in probabilities.items()
        )


def store_measured_ratio(study):
    """Store a trained card's cardiothoracic ratio on the study's segmentation run, as ml stores one:
    the untrained network measures no ratio. Returns the ratio."""
    from ml.segmentation.analyser import SEGMENTATION
    from ml.segmentation.cardiothoracic import CardiothoracicRatio, MeasurementLine
    from studies.models import AnalyserRun

    ratio = CardiothoracicRatio(
        ratio=0.5625,
        heart_line=MeasurementLine(y=300, x_start=200, x_end=343),
        thorax_line=MeasurementLine(y=280, x_start=120, x_end=375),
        view="AP",
    )
    run = AnalyserRun.objects.get(study=study, kind=SEGMENTATION)
    run.card = {**run.card, "trained": True}
    run.result = {**run.result, "cardiothoracic_ratio": ratio.to_dict(), "cardiothoracic_ratio_note": None}
    run.save(update_fields=["card", "result"])
    return ratio


def done_acceptance_run(*, model_card: dict, result: dict, threshold_rule: str = "youden"):
    """A finished acceptance run of ``model_card`` with this result, as the worker would store it."""
    from django.utils import timezone

    from monitoring.models import AcceptanceRun

    return AcceptanceRun.objects.create(
        created_by=AdminFactory(),
        source="upload",
        targets="auroc=0.8",
        threshold_rule=threshold_rule,
        status="done",
        finished_at=timezone.now(),
        model_card=model_card,
        result=result,
    )
