"""Filing a received study's results back becomes a job (common.jobs): the filing_* fields become
the job's state, with the same meaning (waiting → queued, sending → running, sent → done,
not sent → failed)."""

from django.db import migrations, models

FORWARD = {"waiting": "queued", "sending": "running", "sent": "done", "not_sent": "failed"}
BACKWARD = {job: filing for filing, job in FORWARD.items()}


def filing_to_job(apps, schema_editor) -> None:
    ReceivedImage = apps.get_model("pacs", "ReceivedImage")
    for received in ReceivedImage.objects.all():
        received.status = FORWARD[received.filing_status]
        received.message = received.filing_message
        received.attempts = received.filing_attempts
        received.created_at = received.received_at
        received.finished_at = received.filed_at
        # A filing that had begun was handed to the queue once: the reconciler may hand it again.
        if received.filing_status != "waiting" or received.study.status == "done":
            received.enqueued_at = received.received_at
        received.save()


def job_to_filing(apps, schema_editor) -> None:
    ReceivedImage = apps.get_model("pacs", "ReceivedImage")
    for received in ReceivedImage.objects.all():
        received.filing_status = BACKWARD[received.status]
        received.filing_message = received.message
        received.filing_attempts = received.attempts
        received.filed_at = received.finished_at if received.status == "done" else None
        received.save()


class Migration(migrations.Migration):
    dependencies = [
        ("pacs", "0002_receivedimage_filed_at_receivedimage_filing_attempts_and_more"),
        ("studies", "0011_study_key_image"),
    ]

    operations = [
        migrations.AddField(
            model_name="receivedimage",
            name="status",
            field=models.CharField(
                choices=[("queued", "Queued"), ("running", "Running"), ("done", "Done"), ("failed", "Failed")],
                default="queued",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="receivedimage", name="attempts", field=models.PositiveSmallIntegerField(default=0)
        ),
        migrations.AddField(
            model_name="receivedimage",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, null=True),
        ),
        migrations.AddField(
            model_name="receivedimage", name="enqueued_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="receivedimage", name="requeues", field=models.PositiveSmallIntegerField(default=0)
        ),
        migrations.AddField(
            model_name="receivedimage", name="started_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="receivedimage", name="finished_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="receivedimage",
            name="claimed_by",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
        migrations.AddField(
            model_name="receivedimage", name="message", field=models.TextField(blank=True, default="")
        ),
        migrations.RunPython(filing_to_job, job_to_filing),
        migrations.AlterField(
            model_name="receivedimage", name="created_at", field=models.DateTimeField(auto_now_add=True)
        ),
        migrations.RemoveField(model_name="receivedimage", name="filing_status"),
        migrations.RemoveField(model_name="receivedimage", name="filing_message"),
        migrations.RemoveField(model_name="receivedimage", name="filing_attempts"),
        migrations.RemoveField(model_name="receivedimage", name="filed_at"),
    ]
