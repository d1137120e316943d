"""The DICOM listener: a C-STORE SCP (and C-ECHO) that makes a study of each radiograph it receives.

Only the senders an admin allowed (pacs.senders: a calling AE title, optionally from given
addresses, mapped to an account) may associate: any other is refused with A-ASSOCIATE-RJ (calling
AE title not recognised) and the refusal audited. It accepts every storage SOP class, so that a CT
image or a knee radiograph is answered with a failure status and the reason rather than a refused
association: the sender's log then says why.
pynetdicom runs each association in its own thread, so each request closes that thread's
database connection when done.
"""

import logging

from django.conf import settings
from django.db import connections
from pydicom.dataset import Dataset
from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, evt
from pynetdicom.sop_class import Verification
from pynetdicom.transport import ThreadedAssociationServer

from audit.models import AuditAction
from audit.services import audit_record
from common.errors import DomainError
from pacs.models import ReceivedProtocol
from pacs.senders import sender_check
from pacs.services import pacs_received, received_image_store
from pacs.statuses import OUT_OF_RESOURCES, PROCESSING_FAILURE, SUCCESS, refusal_comment, refusal_status

logger = logging.getLogger(__name__)

# The Error Comment attribute is a LO: at most 64 characters.
ERROR_COMMENT_LENGTH = 64
# A-ASSOCIATE-RJ (PS3.8 9.3.4): rejected-permanent, by the DICOM UL service-user, calling AE title
# not recognised (DICOM has no reason for a wrong address: the sender is not recognised there).
REJECTED_PERMANENT, SERVICE_USER, CALLING_AE_NOT_RECOGNISED = 0x01, 0x01, 0x03


def store_status(status: int, comment: str = "") -> Dataset:
    answer = Dataset()
    answer.Status = status
    if comment:
        answer.ErrorComment = comment[:ERROR_COMMENT_LENGTH]
    return answer


def handle_association_request(event: evt.Event) -> None:
    """Refuse, before any negotiation, a caller that is not an allowed sender; audit the refusal."""
    requestor = event.assoc.requestor
    calling_ae_title = requestor.primitive.calling_ae_title.strip()
    try:
        check = sender_check(ae_title=calling_ae_title, address=requestor.address)
        if check.account is not None:
            return
        logger.warning(
            "Association from %s at %s refused: %s", calling_ae_title, requestor.address, check.refusal
        )
        audit_record(
            action=AuditAction.DICOM_SENDER_REFUSED,
            target_type="dicom",
            # An AE title and an address name a device, never a patient.
            detail={
                "calling_ae_title": calling_ae_title,
                "address": requestor.address,
                "refused": check.refusal,
            },
        )
        # After the audit record: the caller may look for it as soon as it reads the rejection.
        event.assoc.acse.send_reject(REJECTED_PERMANENT, SERVICE_USER, CALLING_AE_NOT_RECOGNISED)
        # As pynetdicom ends an association it rejects itself: its DUL sends the rejection before
        # the socket is closed.
        event.assoc.kill()
    finally:
        connections.close_all()


def handle_store(event: evt.Event) -> Dataset:
    calling_ae_title = event.assoc.requestor.ae_title.strip()
    try:
        # Checked again: an admin may have withdrawn the sender since the association began.
        owner = sender_check(ae_title=calling_ae_title, address=event.assoc.requestor.address).account
        if owner is None:
            logger.warning("C-STORE from %s refused: no longer an allowed sender", calling_ae_title)
            return store_status(OUT_OF_RESOURCES, "This AE title may no longer send images")
        data = event.encoded_dataset()
        try:
            study = received_image_store(
                received=pacs_received(data),
                owner=owner,
                protocol=ReceivedProtocol.DIMSE,
                calling_ae_title=calling_ae_title,
            )
        except DomainError as error:
            comment = refusal_comment(error)
            logger.info("C-STORE from %s refused: %s", calling_ae_title, comment)
            return store_status(refusal_status(error), comment)
        logger.info("C-STORE from %s stored as study %s", calling_ae_title, study.id)
        return store_status(SUCCESS)
    except Exception:
        logger.exception("C-STORE from %s failed", calling_ae_title)
        return store_status(PROCESSING_FAILURE, "The service failed to store the image")
    finally:
        # Connections are per thread, and each association has its own thread: close this one's.
        connections.close_all()


def handle_echo(event: evt.Event) -> int:
    return SUCCESS


def listener_application_entity(ae_title: str) -> AE:
    entity = AE(ae_title=ae_title)
    for context in AllStoragePresentationContexts:
        entity.add_supported_context(context.abstract_syntax, ALL_TRANSFER_SYNTAXES)
    entity.add_supported_context(Verification)
    # An image is screened and stored before the answer: give a slow disk some time.
    entity.dimse_timeout = 120
    entity.network_timeout = 120
    return entity


def start_listener(*, host: str, port: int, ae_title: str, block: bool) -> ThreadedAssociationServer | None:
    """Listen on host:port; with block=False the server runs in threads and is returned to stop."""
    handlers = [
        (evt.EVT_REQUESTED, handle_association_request),
        (evt.EVT_C_STORE, handle_store),
        (evt.EVT_C_ECHO, handle_echo),
    ]
    entity = listener_application_entity(ae_title or settings.CXR_DICOM_AE_TITLE)
    return entity.start_server((host, port), block=block, evt_handlers=handlers)
