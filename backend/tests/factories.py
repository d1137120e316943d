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
    """A study row without files; tests that need files write them (see tests/test_reports.py)."""

    class Meta:
        model = "studies.Study"

    owner = factory.SubFactory(UserFactory)
    status = "done"
    original_filename = factory.Sequence(lambda n: f"chest-{n}.png")
    content_type = "image/png"
    image_sha256 = factory.Sequence(lambda n: f"{n:064x}")
    width = 1024
    height = 1024
    original_file = factory.LazyAttribute(lambda study: f"studies/{study.original_filename}")
    display_file = factory.LazyAttribute(lambda study: f"studies/{study.original_filename}.display.png")
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


def add_findings(study, probabilities: dict[str, float], threshold: float = 0.5) -> None:
    """Give a study findings with these probabilities (positive at or above the threshold)."""
    from ml.classifier.postprocess import calibrated_score, is_positive
    from studies.models import Finding

    Finding.objects.bulk_create(
        Finding(
            study=study,
            label=label,
            probability=probability,
            threshold=threshold,
            positive=is_positive(probability, threshold),
            calibrated_score=calibrated_score(probability, threshold),
        )
        for label, probability in probabilities.items()
    )
