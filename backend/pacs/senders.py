"""Who may send images to the DICOM listener: a calling AE title an admin allowed (pacs.models.
DicomSender), else one CXR_DICOM_SENDERS lists, each from its allowed addresses, each mapped to an
active account. Every other caller is refused at association."""

from dataclasses import dataclass

from django.conf import settings

from accounts.models import User
from pacs.addresses import address_allowed
from pacs.models import DicomSender


@dataclass(frozen=True)
class SenderRule:
    ae_title: str
    username: str
    allowed_addresses: str


@dataclass(frozen=True)
class SenderCheck:
    """The account a caller's images become studies of, or why the caller is refused."""

    account: User | None
    refusal: str = ""


def configured_rules() -> list[SenderRule]:
    """CXR_DICOM_SENDERS: "AE_TITLE[=username][@address or network]" entries; without a username,
    the AE title's images become CXR_DICOM_SERVICE_ACCOUNT's studies."""
    rules = []
    for entry in settings.CXR_DICOM_SENDERS:
        named, _, address = entry.partition("@")
        ae_title, _, username = named.partition("=")
        rules.append(
            SenderRule(
                ae_title=ae_title.strip(),
                username=username.strip() or settings.CXR_DICOM_SERVICE_ACCOUNT,
                allowed_addresses=address.strip(),
            )
        )
    return rules


def sender_rule(ae_title: str) -> SenderRule | None:
    """The rule for a calling AE title: an admin's (active or not) wins over the settings'."""
    row = DicomSender.objects.filter(ae_title=ae_title).select_related("account").first()
    if row is not None:
        return (
            SenderRule(
                ae_title=row.ae_title, username=row.account.username, allowed_addresses=row.allowed_addresses
            )
            if row.is_active
            else None
        )
    return next((rule for rule in configured_rules() if rule.ae_title == ae_title), None)


def sender_check(*, ae_title: str, address: str) -> SenderCheck:
    rule = sender_rule(ae_title.strip())
    if rule is None:
        return SenderCheck(account=None, refusal="calling AE title not allowed")
    if not address_allowed(address, rule.allowed_addresses):
        return SenderCheck(account=None, refusal="calling AE title not allowed from this address")
    account = User.objects.filter(username=rule.username, is_active=True).first()
    if account is None:
        return SenderCheck(account=None, refusal="no active account receives this AE title's images")
    return SenderCheck(account=account)


def any_sender_receives() -> bool:
    """Whether some caller would be accepted: the listener refuses to start otherwise."""
    usernames = {rule.username for rule in configured_rules()} | set(
        DicomSender.objects.filter(is_active=True).values_list("account__username", flat=True)
    )
    return User.objects.filter(username__in=usernames, is_active=True).exists()
