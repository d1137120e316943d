from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backups.services import backup_create
from common.errors import DomainError


class Command(BaseCommand):
    help = "Write the database (pg_dump) and every media file, local or in the object store, to a new folder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, required=True, help="a new or empty folder")

    def handle(self, *args: Any, out: Path, **options: Any) -> None:
        try:
            summary = backup_create(folder=out.resolve())
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"Backed up the database and {summary.media_files} media files to {summary.folder}."
        )
