"""``manage.py acceptance_run``: a site acceptance run from the command line, as the web app starts one.

The run is the same job (queued, run by the findings worker, or here with --here), audited under the
named admin; it prints the verdict when it is done.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from common.errors import DomainError
from deployments.models import ModelVersion
from ml.evaluation.acceptance import describe_acceptance
from monitoring.models import AcceptanceRun, AcceptanceSource
from monitoring.services import acceptance_run_create, acceptance_run_execute


class Command(BaseCommand):
    help = "Start a site acceptance run on a zip of radiographs and a labels CSV, or on the judged studies."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--admin", required=True, help="the admin the run is audited under")
        parser.add_argument("--images", type=Path, help="zip of the radiographs (with --labels)")
        parser.add_argument("--labels", type=Path, help="labels CSV, as python -m ml evaluate --truth reads")
        parser.add_argument(
            "--from-feedback",
            action="store_true",
            help="the site's studies, labelled by clinicians' verdicts",
        )
        parser.add_argument("--targets", required=True, help="e.g. auroc=0.80,sensitivity=0.90")
        parser.add_argument("--threshold-rule", default="youden", help="sensitivity:0.9, f1 or youden")
        parser.add_argument(
            "--model-version",
            type=int,
            help="the id of installed weights to accept (a candidate: the Model versions page's list); "
            "omitted: the active model",
        )
        parser.add_argument("--here", action="store_true", help="run it in this process, not the worker")

    def handle(self, *args: Any, **options: Any) -> None:
        admin = User.objects.filter(username=options["admin"], is_staff=True, is_active=True).first()
        if admin is None:
            raise CommandError(f"No active admin named {options['admin']!r}.")
        if options["from_feedback"] == bool(options["images"] or options["labels"]):
            raise CommandError("Give --images and --labels, or --from-feedback.")
        version = None
        if options["model_version"] is not None:
            version = ModelVersion.objects.filter(pk=options["model_version"]).first()
            if version is None:
                raise CommandError(f"No installed weights have the id {options['model_version']}.")
        try:
            run = acceptance_run_create(
                user=admin,
                source=AcceptanceSource.FEEDBACK if options["from_feedback"] else AcceptanceSource.UPLOAD,
                targets=options["targets"],
                threshold_rule=options["threshold_rule"],
                archive=options["images"].read_bytes() if options["images"] else None,
                labels_csv=options["labels"].read_bytes() if options["labels"] else None,
                model_version=version,
            )
        except (DomainError, OSError) as error:
            raise CommandError(str(error)) from error
        if not options["here"]:
            self.stdout.write(f"Acceptance run {run.pk} queued for the findings worker.")
            return
        acceptance_run_execute(run_id=run.pk, claimant="manage.py")
        run = AcceptanceRun.objects.get(pk=run.pk)
        if run.result is None:
            raise CommandError(f"Acceptance run {run.pk} {run.status}: {run.message}")
        for line in describe_acceptance(run.result["acceptance"]):
            self.stdout.write(line)
