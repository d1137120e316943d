"""Send again the results that could not be filed into the PACS (after an outage longer than the
retries, or a refused object the PACS's administrator has since fixed).

    manage.py refile_results            every failed filing of an analysed study
    manage.py refile_results STUDY_ID…  only these studies'
"""

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pacs.dispatch import filings_requeue
from pacs.models import ReceivedImage


class Command(BaseCommand):
    help = "Send again the results of studies whose filing into the PACS failed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("study_ids", nargs="*", help="studies to re-file (default: every failed filing)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            study_ids = [uuid.UUID(value) for value in options["study_ids"]]
        except ValueError as error:
            raise CommandError(f"Not a study id: {error}") from error
        filings = ReceivedImage.objects.all()
        if study_ids:
            filings = filings.filter(study_id__in=study_ids)
        requeued = filings_requeue(filings)
        self.stdout.write(f"{len(requeued)} filings queued to be sent again.")
        for study_id in requeued:
            self.stdout.write(f"  study {study_id}")
