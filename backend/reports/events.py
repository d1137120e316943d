"""What the reports announce: a report signed (a first sign-off or an amendment), once committed.

The PACS filing connects to it in its AppConfig.ready (pacs.dispatch), so that a signed report,
final in the SR, the PDF and FHIR, is filed again where the study's results were filed; the
reports name none of the integrations.
"""

import uuid

from django.db import transaction
from django.dispatch import Signal

from reports.models import ClinicianReport

# Sent with ``study_id`` once the signature is committed.
report_signed = Signal()


def report_signed_announce(study_id: uuid.UUID) -> None:
    # robust: a broker that is down must not undo a signature already committed.
    transaction.on_commit(lambda: report_signed.send(sender=ClinicianReport, study_id=study_id), robust=True)
