"""``manage.py drift_snapshot [--date YYYY-MM-DD]``: compute (again) the monitoring snapshot of a day,
as Celery beat does each night for the day before."""

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from monitoring.drift import drift_snapshot_compute


class Command(BaseCommand):
    help = "Compute the monitoring snapshot of a day (default yesterday) for the active model."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="the day, YYYY-MM-DD (default yesterday)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            day = (
                datetime.date.fromisoformat(options["date"])
                if options["date"]
                else timezone.localdate() - datetime.timedelta(days=1)
            )
        except ValueError as error:
            raise CommandError(f"--date must be YYYY-MM-DD, not {options['date']!r}.") from error
        snapshot = drift_snapshot_compute(day=day)
        state = "DRIFTED" if snapshot.drifted else "not drifted"
        self.stdout.write(f"{day}: {snapshot.studies} studies, {state}.")
        for reason in snapshot.reasons:
            self.stdout.write(f"  {reason}")
