from rest_framework import serializers

from pacs.models import FilingStatus, ReceivedImage, ReceivedProtocol


class FilingSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=FilingStatus.choices, source="filing_status")
    status_display = serializers.CharField(source="filing_status.label")
    message = serializers.CharField(help_text="Why not, when the results were not sent.")
    attempts = serializers.IntegerField()
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


class DicomNodeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[("listener", "This service's listener"), ("pacs", "PACS destination")]
    )
    ae_title = serializers.CharField()
    host = serializers.CharField()
    port = serializers.IntegerField(allow_null=True)
    configured = serializers.BooleanField()
    last_contact = serializers.DateTimeField(
        allow_null=True, help_text="Last image received, or last results sent."
    )


class FilingQueueItemSerializer(serializers.ModelSerializer):
    study_id = serializers.UUIDField()
    filing = FilingSerializer(source="*")

    class Meta:
        model = ReceivedImage
        fields = ["study_id", "protocol", "calling_ae_title", "received_at", "filing"]
        read_only_fields = fields


class DicomNodesSerializer(serializers.Serializer):
    nodes = DicomNodeSerializer(many=True)
    queue = FilingQueueItemSerializer(many=True, help_text="Results not sent yet: failures first.")
