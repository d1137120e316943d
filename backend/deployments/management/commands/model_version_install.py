"""``manage.py model_version_install DIR``: record a weights directory the operator installed, so that
an admin can run it in shadow and promote it."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.errors import DomainError
from deployments.services import model_version_install


class Command(BaseCommand):
    help = "Record an installed weights directory (card.json, model.weights.h5) as a candidate model."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("weights_dir", type=Path)

    def handle(self, *args, weights_dir: Path, **options) -> None:
        try:
            version = model_version_install(weights_dir=str(weights_dir.expanduser().resolve()))
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"Installed {version.name} {version.version} (id {version.pk}, weights "
            f"{(version.weights_sha256 or 'untrained')[:12]}…): start it in shadow from the web app."
        )
