"""The migration to studies of several images: a study of one image keeps its files and findings."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("studies", "0006_analyser_runs")
AFTER = ("studies", "0007_study_images")


def migrate_to(target: tuple[str, str]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


def test_an_existing_study_becomes_one_frontal_image_with_the_same_files_and_findings(clinician):
    old = migrate_to(BEFORE)
    try:
        study = old.get_model("studies", "Study").objects.create(
            owner_id=clinician.pk,
            status="done",
            original_filename="chest.png",
            content_type="image/png",
            image_sha256="ab" * 32,
            width=1024,
            height=900,
            original_file="studies/x/original.png",
            display_file="studies/x/display.png",
            heatmaps_file="studies/x/heatmaps.npz",
            image_metadata={"view_position": "PA"},
            screening={"orientation": "upright", "chest_score": 0.9},
        )
        old.get_model("studies", "Finding").objects.create(
            study=study, label="Effusion", probability=0.7, threshold=0.5, positive=True, calibrated_score=0.7
        )

        new = migrate_to(AFTER)

        image = new.get_model("studies", "StudyImage").objects.get(study_id=study.pk)
        assert (image.position, image.view, image.analysed, image.not_analysed_reason) == (
            0,
            "frontal",
            True,
            "",
        )
        assert (image.original_file.name, image.display_file.name, image.heatmaps_file.name) == (
            "studies/x/original.png",
            "studies/x/display.png",
            "studies/x/heatmaps.npz",
        )
        assert (image.width, image.height, image.image_sha256) == (1024, 900, "ab" * 32)
        assert image.image_metadata == {"view_position": "PA"} and image.screening["chest_score"] == 0.9
        finding = new.get_model("studies", "ImageFinding").objects.get(image=image)
        assert (finding.label, finding.probability, finding.threshold, finding.positive) == (
            "Effusion",
            0.7,
            0.5,
            True,
        )
    finally:
        # Leave the database at the latest state for the tests that follow.
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
