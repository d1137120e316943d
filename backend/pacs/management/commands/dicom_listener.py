from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pacs.listener import start_listener
from pacs.senders import any_sender_receives


class Command(BaseCommand):
    help = "Run the DICOM listener (C-STORE SCP): each chest radiograph received becomes a study."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.CXR_DICOM_HOST)
        parser.add_argument("--port", type=int, default=settings.CXR_DICOM_PORT)
        parser.add_argument("--ae-title", default=settings.CXR_DICOM_AE_TITLE)

    def handle(self, *args: Any, host: str, port: int, ae_title: str, **options: Any) -> None:
        if not 0 < port < 65536:
            raise CommandError("Set CXR_DICOM_PORT (or --port) to the port the listener should take.")
        if not 0 < len(ae_title) <= 16:
            raise CommandError("The AE title must be 1 to 16 characters.")
        if not any_sender_receives():
            raise CommandError(
                "No sender may send images: allow senders in the admin (DICOM senders), or list them "
                "in CXR_DICOM_SENDERS with CXR_DICOM_SERVICE_ACCOUNT set to an active user's name."
            )
        self.stdout.write(f"DICOM listener {ae_title} on {host}:{port}", ending="\n")
        self.stdout.flush()
        start_listener(host=host, port=port, ae_title=ae_title, block=True)
