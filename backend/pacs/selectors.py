"""Reads for the hospital integration: whose study an image from a PACS becomes."""

from django.conf import settings

from accounts.models import User


def receiving_user(*, calling_ae_title: str) -> User | None:
    """The account mapped to the calling AE title, else the configured service account (active only)."""
    username = settings.CXR_DICOM_AE_USERS.get(calling_ae_title.strip(), settings.CXR_DICOM_SERVICE_ACCOUNT)
    if not username:
        return None
    return User.objects.filter(username=username, is_active=True).first()
