"""Runs of the analysers beside the classifier (segmentation, screener), one per study and kind."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('studies', '0005_explanation'),
    ]

    operations = [
        migrations.CreateModel(
            name='AnalyserRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=32)),
                ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], default='queued', max_length=16)),
                ('card', models.JSONField(blank=True, null=True)),
                ('result', models.JSONField(blank=True, null=True)),
                ('score', models.FloatField(blank=True, null=True)),
                ('result_file', models.FileField(blank=True, max_length=255, upload_to='')),
                ('message', models.TextField(blank=True, default='')),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('enqueued_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('study', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='analyser_runs', to='studies.study')),
            ],
            options={
                'ordering': ['kind'],
                'indexes': [models.Index(fields=['kind', 'status'], name='studies_ana_kind_13ae14_idx')],
                'constraints': [models.UniqueConstraint(fields=('study', 'kind'), name='one_run_per_analyser')],
            },
        ),
    ]
