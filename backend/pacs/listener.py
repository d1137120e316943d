"""The DICOM listener: a C-STORE SCP (and C-ECHO) that makes a study of each radiograph it receives.

It accepts every storage SOP class, so that a CT image or a knee radiograph is answered with a
failure status and the reason rather than a refused association: the sender's log then says why.
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

from common.errors import DomainError
from pacs.models import ReceivedProtocol
from pacs.selectors import receiving_user
from pacs.services import pacs_received, received_image_store
from pacs.statuses import OUT_OF_RESOURCES, PROCESSING_FAILURE, SUCCESS, refusal_comment, refusal_status

logger = logging.getLogger(__name__)

# The Error Comment attribute is a LO: at most 64 characters.
ERROR_COMMENT_LENGTH = 64


def store_status(status: int, comment: str = "") -> Dataset:
    answer = Dataset()
    answer.Status = status
    if comment:
        answer.ErrorComment = comment[:ERROR_COMMENT_LENGTH]
    return answer


def handle_store(event: evt.Event) -> Dataset:
    calling_ae_title = event.assoc.requestor.ae_title.strip()
    try:
        owner = receiving_user(calling_ae_title=calling_ae_title)
        if owner is None:
            logger.warning("C-STORE from %s refused: no account receives its images", calling_ae_title)
            return store_status(OUT_OF_RESOURCES, "No account receives images from this AE title")
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
    handlers = [(evt.EVT_C_STORE, handle_store), (evt.EVT_C_ECHO, handle_echo)]
    entity = listener_application_entity(ae_title or settings.CXR_DICOM_AE_TITLE)
    return entity.start_server((host, port), block=block, evt_handlers=handlers)
