"""``manage.py studies_reanalyse ID [ID ...]``: analyse finished studies again with the active model.

The command-line form of ``POST /api/admin/models/reanalyse/``: re-analysis after a promotion is the
operator's choice, never a side effect of it.
"""

import uuid

from django.core.management.base import BaseCommand, CommandError, CommandParser

from studies.services import studies_reanalyse


class Command(BaseCommand):
    help = "Queue finished radiograph studies for analysis by the active model (deployment)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("study_ids", nargs="+")

    def handle(self, *args, study_ids: list[str], **options) -> None:
        try:
            ids = [uuid.UUID(study_id) for study_id in study_ids]
        except ValueError as error:
            raise CommandError(f"A study id is a UUID: {error}") from error
        queued = studies_reanalyse(study_ids=ids)
        left = len(ids) - len(queued)
        self.stdout.write(
            f"Queued {len(queued)} studies for re-analysis"
            + (f"; {left} left alone (not finished, a CT study, or unknown)." if left else ".")
        )
