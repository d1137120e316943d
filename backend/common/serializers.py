from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the API (common.exception_handler), as the schema documents it."""

    message = serializers.CharField(help_text="What went wrong, in a sentence for a person.")
    extra = serializers.DictField(
        help_text="Machine-readable details: fields, reason, limits, retry_after_seconds."
    )

    class Meta:
        ref_name = "Error"
