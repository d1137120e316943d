from django.conf import settings
from django.core.management.base import BaseCommand

from studies.services import studies_fail_interrupted


class Command(BaseCommand):
    help = (
        "In embedded mode, analyses run in a thread of the web process and die with it: mark the "
        "studies a stopped process left queued or running as failed, so none waits forever. "
        "With a broker the queue keeps them, and this command does nothing."
    )

    def handle(self, *args: object, **options: object) -> None:
        if not settings.CXR_EMBEDDED_TASKS:
            self.stdout.write("Tasks run on Celery workers: queued studies stay queued.")
            return
        count = studies_fail_interrupted(
            message="The service restarted before this analysis finished; upload the image again."
        )
        self.stdout.write(f"Marked {count} interrupted studies as failed.")
