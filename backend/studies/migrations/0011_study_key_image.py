import django.db.models.deletion
from django.db import migrations, models

# The key image's fields the study row carried as copies, which only the StudyImage now holds.
IMAGE_FIELDS = (
    "original_filename",
    "content_type",
    "image_sha256",
    "width",
    "height",
    "original_file",
    "display_file",
    "model_input_file",
    "heatmaps_file",
    "image_metadata",
    "screening",
)


def key_image_of_each_study(apps, schema_editor):
    """Point every study at its key image, the image whose files the study's copies named.

    A study without a StudyImage (a CT study, so far a study of no images) gets one at position 0
    from its own fields, of the study's kind: the same files, nothing copied on disk.
    """
    Study = apps.get_model("studies", "Study")
    StudyImage = apps.get_model("studies", "StudyImage")
    for study in Study.objects.prefetch_related("images").iterator(chunk_size=500):
        images = list(study.images.all())
        key = next((image for image in images if image.original_file == study.original_file), None)
        if key is None and not images:
            key = StudyImage.objects.create(
                study=study,
                position=0,
                kind=study.kind,
                view="frontal",
                analysed=True,
                **{field: getattr(study, field) for field in IMAGE_FIELDS},
            )
        if key is None:
            key = next((image for image in images if image.analysed), images[0])
        study.key_image = key
        study.save(update_fields=["key_image"])


def copies_of_each_key_image(apps, schema_editor):
    """Backwards: the study row carries its key image's fields again."""
    Study = apps.get_model("studies", "Study")
    for study in Study.objects.select_related("key_image").iterator(chunk_size=500):
        for field in IMAGE_FIELDS:
            setattr(study, field, getattr(study.key_image, field))
        study.kind = study.key_image.kind
        study.save(update_fields=[*IMAGE_FIELDS, "kind"])


# The study's required image fields, nullable while the copies go (and, backwards, come back).
REQUIRED_FIELDS = {
    "original_filename": models.CharField(max_length=255, null=True),
    "content_type": models.CharField(max_length=100, null=True),
    "image_sha256": models.CharField(max_length=64, db_index=True, null=True),
    "width": models.PositiveIntegerField(null=True),
    "height": models.PositiveIntegerField(null=True),
    "original_file": models.FileField(max_length=255, null=True),
    "display_file": models.FileField(max_length=255, null=True),
}


class Migration(migrations.Migration):
    dependencies = [
        ("studies", "0010_one_job_lifecycle"),
    ]

    operations = [
        migrations.AddField(
            model_name="studyimage",
            name="kind",
            field=models.CharField(
                choices=[("radiograph", "Radiograph"), ("ct", "CT series")], default="radiograph", max_length=16
            ),
        ),
        migrations.AddField(
            model_name="study",
            name="key_image",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="studies.studyimage",
            ),
        ),
        *(
            migrations.AlterField(model_name="study", name=name, field=field)
            for name, field in REQUIRED_FIELDS.items()
        ),
        migrations.RunPython(key_image_of_each_study, copies_of_each_key_image),
        *(migrations.RemoveField(model_name="study", name=field) for field in (*IMAGE_FIELDS, "kind")),
    ]
