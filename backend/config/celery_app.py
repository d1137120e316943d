"""The Celery application: configured from Django settings under the CELERY_ namespace.

A worker takes a role: ``--role findings`` consumes the study queue (CXR_TASK_QUEUE: the classifier's
findings, explanations, the reconciler), ``--role analysers`` the analysers' queue (CXR_ANALYSER_QUEUE),
so that each is its own process and a study's findings never wait behind another study's analysers.
A worker given neither a role nor ``--queues`` consumes both (one process for a small site).
"""

import os
from typing import Any

import click
from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("cxr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

FINDINGS, ANALYSERS = "findings", "analysers"

app.user_options["worker"].add(
    click.Option(
        ["--role"],
        type=click.Choice([FINDINGS, ANALYSERS]),
        default=None,
        help="findings: the study queue (the classifier); analysers: the analysers' queue.",
    )
)


def queues_of_role(role: str | None) -> list[str]:
    from django.conf import settings

    findings, analysers = settings.CELERY_TASK_DEFAULT_QUEUE, settings.CXR_ANALYSER_QUEUE
    return {FINDINGS: [findings], ANALYSERS: [analysers], None: [findings, analysers]}[role]


class ConsumeTheQueuesOfItsRole(bootsteps.Step):
    """Selects the queues a worker consumes from its ``--role`` (before its pool forks)."""

    def __init__(self, parent: Any, role: str | None = None, queues: Any = None, **options: Any) -> None:
        super().__init__(parent, **options)
        if role is not None and queues:
            raise click.UsageError("Give a worker --role or --queues, not both.")
        if role is not None or not queues:
            parent.app.amqp.queues.select(queues_of_role(role))


app.steps["worker"].add(ConsumeTheQueuesOfItsRole)
