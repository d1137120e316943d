"""When a study was last enqueued and how often the reconciler enqueued it again (studies.reconciliation)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('studies', '0003_small_heatmaps_and_calibrated_scores'),
    ]

    operations = [
        migrations.AddField(
            model_name='study',
            name='enqueued_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='study',
            name='requeues',
            field=models.PositiveSmallIntegerField(default=0),
        ),
    ]
