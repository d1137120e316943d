from rest_framework import serializers

from pacs.models import FilingStatus, ReceivedImage, ReceivedProtocol


class FilingSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=FilingStatus.choices, source="filing_status")
    status_display = serializers.CharField(source="get_filing_status_display")
    message = serializers.CharField(
        source="filing_message", help_text="Why not, when the results were not sent."
    )
    attempts = serializers.IntegerField(source="filing_attempts")
    filed_at = serializers.DateTimeField(allow_null=True)


class StudyPacsSerializer(serializers.Serializer):
    """Whether a PACS sent the study, and whether its results went back (no identifiers)."""

    received = serializers.BooleanField()
    protocol = serializers.ChoiceField(choices=ReceivedProtocol.choices, allow_null=True)
    calling_ae_title = serializers.CharField(allow_null=True)
    received_at = serializers.DateTimeField(allow_null=True)
    filing = FilingSerializer(allow_null=True)


def study_pacs_data(received: ReceivedImage | None) -> dict[str, object]:
    if received is None:
        return {
            "received": False,
            "protocol": None,
            "calling_ae_title": None,
            "received_at": None,
            "filing": None,
        }
    return {
        "received": True,
        "protocol": received.protocol,
        "calling_ae_title": received.calling_ae_title,
        "received_at": received.received_at,
        "filing": received,
    }
