"""What the PACS holds of a study's results: their identity and their objects' UIDs, so that a new
set of results is filed with new UIDs and supersedes the set before it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("pacs", "0003_filing_is_a_job")]

    operations = [
        migrations.AddField(
            model_name="receivedimage",
            name="filed_results",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="receivedimage",
            name="filed_objects",
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
    ]
