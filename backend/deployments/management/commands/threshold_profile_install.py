"""``manage.py threshold_profile_install PATH``: install a profile file that ``ml evaluate --profile-out``
wrote."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.errors import DomainError
from deployments.services import threshold_profile_install


class Command(BaseCommand):
    help = "Install a site threshold profile (JSON) for weights installed here; activate it in the web app."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options) -> None:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CommandError(f"{path} cannot be read as JSON: {error}") from error
        try:
            profile = threshold_profile_install(document=document)
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"Installed threshold profile {profile.identity} (id {profile.pk}) for {profile.model}."
        )
