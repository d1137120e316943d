from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backups.services import backup_restore
from common.errors import DomainError


class Command(BaseCommand):
    help = "Restore a folder written by `backup` into an empty database and an empty media storage."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="a folder written by `manage.py backup`")

    def handle(self, *args: Any, folder: Path, **options: Any) -> None:
        try:
            summary = backup_restore(folder=folder.resolve())
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"Restored the database and {summary.media_files} media files from {summary.folder}"
        )
