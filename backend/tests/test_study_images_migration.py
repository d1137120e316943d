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


KEY_IMAGE_BEFORE = ("studies", "0009_upload_answer")
KEY_IMAGE_AFTER = ("studies", "0011_study_key_image")


def old_study_fields(name: str, **changed) -> dict:
    return {
        "status": "done",
        "original_filename": f"{name}.png",
        "content_type": "image/png",
        "image_sha256": "cd" * 32,
        "width": 800,
        "height": 700,
        "original_file": f"studies/{name}/original.png",
        "display_file": f"studies/{name}/display.png",
        "image_metadata": {"view_position": "PA"},
        **changed,
    }


def test_each_study_points_at_its_key_image_and_a_ct_study_gains_its_series_as_an_image(clinician):
    old = migrate_to(KEY_IMAGE_BEFORE)
    try:
        Study, StudyImage = old.get_model("studies", "Study"), old.get_model("studies", "StudyImage")
        two = Study.objects.create(owner_id=clinician.pk, **old_study_fields("two"))
        image_fields = {key: value for key, value in old_study_fields("two").items() if key != "status"}
        StudyImage.objects.create(
            study=two,
            position=0,
            view="lateral",
            analysed=False,
            **{**image_fields, "original_file": "lat.dcm"},
        )
        frontal = StudyImage.objects.create(study=two, position=1, **image_fields)
        ct = Study.objects.create(
            owner_id=clinician.pk,
            kind="ct",
            **old_study_fields("ct", original_filename="ct.zip", content_type="application/zip"),
        )

        new = migrate_to(KEY_IMAGE_AFTER)

        Study, StudyImage = new.get_model("studies", "Study"), new.get_model("studies", "StudyImage")
        assert Study.objects.get(pk=two.pk).key_image_id == frontal.pk
        assert StudyImage.objects.filter(study_id=two.pk).count() == 2
        [series] = StudyImage.objects.filter(study_id=ct.pk)
        assert Study.objects.get(pk=ct.pk).key_image_id == series.pk
        assert (series.kind, series.position, series.original_filename, series.content_type) == (
            "ct",
            0,
            "ct.zip",
            "application/zip",
        )
        assert (series.original_file.name, series.display_file.name, series.width, series.height) == (
            "studies/ct/original.png",
            "studies/ct/display.png",
            800,
            700,
        )
    finally:
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
